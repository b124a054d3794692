/** The dashboard module's public surface (other modules import only this file). */
export { dashboardRoutes } from './routes.js';
export { createDashboardService, type DashboardService } from './service.js';
