/** The health module's public face: liveness and readiness routes. */
export { healthRoutes, type ReadinessCheck } from './routes.js';
