import type { Infrastructure } from './infrastructure.js';
import { createAuditChainService, createAuditLogService } from './modules/audit/index.js';
import {
  createAuthAdminService,
  createAuthService,
  createLoginCompletion,
  createPasswordService,
  createSessionAdminService,
  createTwoFactorService,
} from './modules/auth/index.js';
import { createNoteService, noteSealedTable } from './modules/admin-notes/index.js';
import { createDashboardService } from './modules/dashboard/index.js';
import { createIntakeService, submissionSealedTable } from './modules/intake/index.js';
import { createJournalService, journalSealedTable } from './modules/journal/index.js';
import {
  cancelInactivitySchedule,
  createConsentService,
  createDeletionService,
  createExportService,
  createPolicyService,
  createRetentionService,
} from './modules/privacy/index.js';
import {
  createAccountService,
  createProfileService,
  createUsersService,
  profileSealedTable,
} from './modules/users/index.js';

/**
 * Every service of the application, built once from the infrastructure (part of the composition root,
 * with container.ts). Routes, jobs and CLI commands receive these; none builds its own.
 */
export function createServices(infra: Infrastructure) {
  const { db, config, hasher, sessions, tokens, dataKeys, users, lockout, captcha, pending2fa, mailer, kv } =
    infra;
  const { cipher, fmt, now, metrics, makeLimiter, createAccount, changed } = infra;
  // "A user signed in" → privacy calls off a pending inactivity deletion (docs/privacy.md#inactive-accounts).
  const completeLogin = createLoginCompletion({
    db,
    sessions,
    users,
    lockout,
    mailer,
    fmt,
    now,
    onSignedIn: cancelInactivitySchedule,
  });
  const auth = createAuthService({
    db,
    config,
    hasher,
    sessions,
    tokens,
    users,
    createAccount,
    lockout,
    captcha,
    pending2fa,
    completeLogin,
    mailer,
    now,
    changed,
    onLoginOutcome: metrics.login,
  });
  const twoFactor = createTwoFactorService({
    db,
    kv,
    cipher,
    dataKeys,
    hasher,
    lockout,
    pending2fa,
    completeLogin,
    mailer,
    blindIndexKey: config.encryption.blindIndexKey,
    fmt,
    now,
    changed,
  });
  const passwords = createPasswordService({
    db,
    config,
    hasher,
    sessions,
    lockout,
    captcha,
    mailer,
    makeLimiter,
    fmt,
    now,
    changed,
  });
  const sessionAdmin = createSessionAdminService({ db, sessions, fmt, now });

  return {
    auth,
    twoFactor,
    passwords,
    sessionAdmin,
    authAdmin: createAuthAdminService({ db, sessions, mailer, now, changed }),
    accounts: createAccountService(infra),
    profiles: createProfileService(infra),
    userAccounts: createUsersService(infra),
    intake: createIntakeService(infra),
    journal: createJournalService(infra),
    notes: createNoteService(infra),
    dashboard: createDashboardService(infra),
    auditLog: createAuditLogService(infra),
    auditChain: createAuditChainService(infra),
    policies: createPolicyService(infra),
    consents: createConsentService(infra),
    exports: createExportService(infra),
    deletions: createDeletionService(infra),
    retention: createRetentionService(infra),
    // keys:reencrypt: every table with a sealed record, from its own module (docs/privacy.md#one-envelope-per-row).
    sealedTables: [
      profileSealedTable(cipher),
      journalSealedTable(cipher),
      noteSealedTable(cipher),
      submissionSealedTable(cipher),
    ],
  };
}
export type Services = ReturnType<typeof createServices>;
