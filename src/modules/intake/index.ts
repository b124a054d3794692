/** The intake module's public face. */
export { intakeRoutes } from './routes.js';
export { submissionSealedTable } from './reseal.js';
export { createIntakeService, type IntakeService, type IntakeServiceDeps } from './service.js';
