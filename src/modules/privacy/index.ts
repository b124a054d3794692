/**
 * The privacy module's public face (docs/privacy.md): other modules, plugins and the root import
 * only this file. Parts, each in its own folder of the same shape: policy/, consent/, export/,
 * deletion/ (with erasure), retention/.
 */

// Services (built once by src/services.ts) and what they are built from.
export { createPolicyService, type PolicyService, type PolicyDeps } from './policy/service.js';
export { createConsentService, type ConsentService, type ConsentDeps } from './consent/service.js';
export { createExportService, type ExportService, type ExportDeps } from './export/service.js';
export { createDeletionService, type DeletionService, type DeletionDeps } from './deletion/service.js';
export type { ErasureDeps, SessionTermination } from './deletion/erasure.js';
export { createRetentionService, type RetentionService, type RetentionDeps } from './retention/service.js';

// HTTP routes, CLI commands and periodic jobs, all built from the services.
export { privacyRoutes, type PrivacyServices } from './routes.js';
export { privacyCommands } from './cli.js';
export { privacyJobHandlers, privacyJobs } from './jobs.js';

// First start: the template privacy policy (src/main.ts).
export { ensurePrivacyPolicy, type PolicyBootstrapDeps } from './policy/bootstrap.js';

// For other modules.
/** Intake's INTAKE_REQUIRE_MEDICAL_CONSENT check (docs/contract.md#intake). */
export { hasMedicalDataConsent } from './consent/service.js';
/**
 * Privacy's reaction to "a user signed in" (docs/privacy.md#inactive-accounts): `(tx, userId, ctx)`,
 * run in the sign-in's transaction; the root wires it into the sign-in as a hook.
 */
export { cancelInactivitySchedule } from './retention/inactive-accounts.js';
