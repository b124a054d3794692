/** The dashboard module's public face. */
export { dashboardRoutes } from './routes.js';
export { createDashboardService, type DashboardService, type DashboardServiceDeps } from './service.js';
