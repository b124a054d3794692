/**
 * The audit module's public face (other modules, plugins and the root import only this file).
 * Audit depends on no other module.
 */
export { recordAudit, recordAudits, diffPlain, type AuditContext, type AuditEvent } from './recorder.js';
export { readEvents, recordReads, type ReadItem, type Reader } from './reads.js';
export { deniedAudit, recordDenied, NOT_VISIBLE, type DeniedAudit, type SensitiveObject } from './denied.js';
export { notRefusedByOthers } from './repo.js';
export { createAuditLogService, type AuditLogService } from './log-service.js';
export { createAuditChainService, type AuditChainService } from './chain-service.js';
export { auditRoutes } from './routes.js';
export { auditCommands, type AuditCliServices } from './cli.js';
export { auditJobs } from './jobs.js';
export type { ChainVerification } from './verify.js';
export type { AuditPurgeResult } from './purge.js';
export type { AuditOutcome } from './types.js';
