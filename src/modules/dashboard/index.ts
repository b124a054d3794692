/** The dashboard module's public face. */
export { dashboardRoutes } from './routes.js';
export {
  type CandidateStatsResult,
  createDashboardService,
  type DashboardService,
  type DashboardServiceDeps,
} from './service.js';
export type { AdminStats } from './types.js';
