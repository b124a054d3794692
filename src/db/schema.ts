import { sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  date,
  integer,
  smallint,
  boolean,
  index,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

/**
 * The data model (docs/contract.md). Columns holding sensitive values are `text` ciphertext
 * written by lib/crypto/field-cipher.ts; they never hold plaintext. A table with several sensitive
 * fields keeps them in one record, `sealed` (db/sealed-records.ts, docs/privacy.md#one-envelope-per-row);
 * its per-field columns hold rows written before records and are NULL once a row is re-sealed.
 * PostgreSQL 15 is the oldest supported server: use no feature newer than that.
 */

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const id = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();
const userRef = (name: string) => bigint(name, { mode: 'number' });
/** A 64-bit transaction id (PostgreSQL 13+), read as its decimal text. */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

export const roleEnum = pgEnum('user_role', ['candidate', 'admin', 'superuser']);
export const deviceTypeEnum = pgEnum('device_type', ['mobile', 'tablet', 'pc', 'bot', 'unknown']);

export const users = pgTable(
  'users',
  {
    id: id(),
    email: varchar('email', { length: 254 }).notNull(),
    password: text('password').notNull(),
    firstName: varchar('first_name', { length: 1000 }).notNull().default(''),
    lastName: varchar('last_name', { length: 1000 }).notNull().default(''),
    role: roleEnum('role').notNull().default('candidate'),
    hasCompletedIntake: boolean('has_completed_intake').notNull().default(false),
    isActive: boolean('is_active').notNull().default(true),
    dateJoined: ts('date_joined').notNull().defaultNow(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    lastLogin: ts('last_login'),
    passwordLastChanged: ts('password_last_changed').notNull().defaultNow(),
    totpSecret: text('totp_secret'),
    totpEnabled: boolean('totp_enabled').notNull().default(false),
    totpEnabledAt: ts('totp_enabled_at'),
    totpLastUsed: ts('totp_last_used'),
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    anonymizedAt: ts('anonymized_at'),
  },
  (t) => [
    // SECURITY: e-mails are stored lower-cased; the index on lower() also guards imports.
    uniqueIndex('users_email_lower_uq').on(sql`lower(${t.email})`),
    index('users_role_idx').on(t.role, t.id),
  ],
);

export const PROFILE_FIELDS = [
  'id_number',
  'contact_number',
  'address',
  'emergency_contact',
  'emergency_phone',
  'diagnosis',
  'medications',
  'allergies',
  'medical_notes',
  'doctor_name',
  'doctor_phone',
  'accommodations',
  'assistive_technology',
  'learning_style',
  'support_needs',
  'communication_preferences',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];

export const userProfiles = pgTable(
  'user_profiles',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // PRIVACY: the 16 fields as one record under the user's data key (db/sealed-records.ts).
    sealed: text('sealed'),
    // Rows not yet re-sealed: one ciphertext per field (NULL once `sealed` is set).
    idNumber: text('id_number'),
    contactNumber: text('contact_number'),
    address: text('address'),
    emergencyContact: text('emergency_contact'),
    emergencyPhone: text('emergency_phone'),
    diagnosis: text('diagnosis'),
    medications: text('medications'),
    allergies: text('allergies'),
    medicalNotes: text('medical_notes'),
    doctorName: text('doctor_name'),
    doctorPhone: text('doctor_phone'),
    accommodations: text('accommodations'),
    assistiveTechnology: text('assistive_technology'),
    learningStyle: text('learning_style'),
    supportNeeds: text('support_needs'),
    communicationPreferences: text('communication_preferences'),
    // Keyed HMAC of the 13 digits: uniqueness and lookup without decrypting.
    idNumberIndex: varchar('id_number_index', { length: 64 }),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('user_profiles_user_uq').on(t.userId),
    uniqueIndex('user_profiles_id_number_index_uq').on(t.idNumberIndex),
  ],
);

/** Per-user data encryption keys, wrapped by a versioned master key (docs/privacy.md#encryption-and-keys). */
export const dataKeys = pgTable(
  'data_keys',
  {
    userId: userRef('user_id')
      .primaryKey()
      .references(() => users.id, { onDelete: 'cascade' }),
    masterKeyId: varchar('master_key_id', { length: 32 }).notNull(),
    wrappedKey: text('wrapped_key').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    rewrappedAt: ts('rewrapped_at'),
  },
  (t) => [index('data_keys_master_key_idx').on(t.masterKeyId)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    sessionKey: varchar('session_key', { length: 64 }).notNull(),
    deviceType: deviceTypeEnum('device_type').notNull().default('unknown'),
    browser: varchar('browser', { length: 100 }).notNull().default(''),
    os: varchar('os', { length: 100 }).notNull().default(''),
    userAgent: varchar('user_agent', { length: 500 }).notNull().default(''),
    ipAddress: varchar('ip_address', { length: 45 }),
    country: varchar('country', { length: 100 }).notNull().default(''),
    city: varchar('city', { length: 100 }).notNull().default(''),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastActivity: ts('last_activity').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    // Addition: hard cap on a session's life however often it is refreshed.
    absoluteExpiresAt: ts('absolute_expires_at').notNull(),
    isSuspicious: boolean('is_suspicious').notNull().default(false),
    terminatedAt: ts('terminated_at'),
    terminatedReason: varchar('terminated_reason', { length: 32 }),
  },
  (t) => [
    uniqueIndex('sessions_session_key_uq').on(t.sessionKey),
    index('sessions_user_activity_idx').on(t.userId, t.lastActivity),
  ],
);

export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    jti: varchar('jti', { length: 32 }).primaryKey(),
    sessionId: bigint('session_id', { mode: 'number' })
      .notNull()
      .references(() => sessions.id, { onDelete: 'cascade' }),
    issuedAt: ts('issued_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    rotatedAt: ts('rotated_at'),
    replacedBy: varchar('replaced_by', { length: 32 }),
  },
  (t) => [index('refresh_tokens_session_idx').on(t.sessionId)],
);

export const passwordHistory = pgTable(
  'password_history',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    passwordHash: text('password_hash').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('password_history_user_idx').on(t.userId, t.createdAt)],
);

/**
 * Append-only audit trail (docs/privacy.md#audit-log). Never holds sensitive values: `changes` only for
 * non-sensitive fields, `fields` lists names.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: id(),
    at: ts('at').notNull().defaultNow(),
    actorId: userRef('actor_id'),
    actorRole: varchar('actor_role', { length: 20 }),
    ip: varchar('ip', { length: 45 }),
    userAgent: varchar('user_agent', { length: 500 }),
    requestId: varchar('request_id', { length: 128 }),
    action: varchar('action', { length: 64 }).notNull(),
    resourceType: varchar('resource_type', { length: 64 }).notNull(),
    resourceId: varchar('resource_id', { length: 64 }),
    subjectUserId: userRef('subject_user_id'),
    fields: jsonb('fields').$type<string[]>(),
    changes: jsonb('changes').$type<Record<string, [unknown, unknown]>>(),
    outcome: varchar('outcome', { length: 16 }).notNull().default('success'),
    reason: varchar('reason', { length: 500 }),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    // Tamper evidence (docs/privacy.md#append-only-chain): the inserting transaction (set by a
    // trigger), then, once sealed after commit, the position in the chain, the chain hashes and how
    // `hash` was computed (1: SHA-256 in SQL, before the sealer; 2: HMAC-SHA-256 by the sealer).
    xid: xid8('xid').default(sql`pg_current_xact_id()`),
    seq: bigint('seq', { mode: 'number' }),
    prevHash: varchar('prev_hash', { length: 64 }),
    hash: varchar('hash', { length: 64 }),
    chainScheme: smallint('chain_scheme'),
  },
  (t) => [
    index('audit_log_subject_at_idx').on(t.subjectUserId, t.at),
    index('audit_log_actor_at_idx').on(t.actorId, t.at),
    index('audit_log_action_at_idx').on(t.action, t.at),
    uniqueIndex('audit_log_seq_uq').on(t.seq),
    index('audit_log_at_idx').on(t.at),
    // What the sealer looks for: the entries not yet in the chain, in the order it chains them.
    index('audit_log_unsealed_idx')
      .on(t.xid.asc().nullsFirst(), t.id)
      .where(sql`${t.seq} is null`),
  ],
);

/**
 * Signed checkpoints of the audit chain (docs/privacy.md#append-only-chain): after each sealing
 * batch, the head (`seq`, `hash`), when, how many entries the batch sealed, and an HMAC over them
 * under the chain key (`key_id` names that key without revealing it). Append-only, like the log.
 */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    id: id(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    hash: varchar('hash', { length: 64 }).notNull(),
    at: ts('at').notNull(),
    sealed: integer('sealed').notNull(),
    keyId: varchar('key_id', { length: 16 }).notNull(),
    mac: varchar('mac', { length: 64 }).notNull(),
  },
  (t) => [uniqueIndex('audit_checkpoints_seq_uq').on(t.seq)],
);

export const moodEnum = pgEnum('mood', ['excellent', 'good', 'okay', 'difficult', 'very_difficult']);

export const journalEntries = pgTable(
  'journal_entries',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    date: date('date', { mode: 'string' }).notNull(),
    mood: moodEnum('mood').notNull(),
    energyLevel: smallint('energy_level').notNull(),
    // PRIVACY: the five text fields as one record under the owner's data key, bound to (table,
    // row id, owner). Rows not yet re-sealed: one ciphertext per column (NULL once `sealed` is set).
    sealed: text('sealed'),
    activities: text('activities'),
    challenges: text('challenges'),
    achievements: text('achievements'),
    notes: text('notes'),
    barriersFaced: text('barriers_faced'),
    barrierCount: integer('barrier_count').notNull().default(0),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('journal_entries_user_date_uq').on(t.userId, t.date),
    index('journal_entries_date_idx').on(t.date, t.id),
    index('journal_entries_created_idx').on(t.createdAt),
    index('journal_entries_mood_idx').on(t.mood),
  ],
);

export const noteCategoryEnum = pgEnum('note_category', [
  'progress',
  'concern',
  'achievement',
  'medical',
  'accommodation',
  'general',
]);

export const adminNotes = pgTable(
  'admin_notes',
  {
    id: id(),
    candidateId: userRef('candidate_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    adminId: userRef('admin_id').references(() => users.id, { onDelete: 'set null' }),
    category: noteCategoryEnum('category').notNull(),
    // PRIVACY: title and content as one record under the candidate's data key. Rows not yet
    // re-sealed: one ciphertext per column (NULL once `sealed` is set).
    sealed: text('sealed'),
    title: text('title'),
    content: text('content'),
    isImportant: boolean('is_important').notNull().default(false),
    // Not encrypted: tags must never carry health details (documented for admins).
    tags: jsonb('tags').$type<string[]>().notNull().default([]),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    index('admin_notes_candidate_created_idx').on(t.candidateId, t.createdAt),
    index('admin_notes_admin_idx').on(t.adminId),
    index('admin_notes_created_idx').on(t.createdAt),
    index('admin_notes_category_idx').on(t.category),
    index('admin_notes_tags_idx').using('gin', t.tags),
  ],
);

export const intakeStatusEnum = pgEnum('intake_status', ['submitted', 'reviewed', 'needs_follow_up']);

export const intakeSubmissions = pgTable(
  'intake_submissions',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // PRIVACY: the answers (the validated intake_data object) and the review notes as one record
    // under the user's key. Rows not yet re-sealed: `responses` (JSON text) and `review_notes` each
    // their own ciphertext (NULL once `sealed` is set).
    sealed: text('sealed'),
    responses: text('responses'),
    status: intakeStatusEnum('status').notNull().default('submitted'),
    submittedAt: ts('submitted_at').notNull().defaultNow(),
    reviewedBy: userRef('reviewed_by').references(() => users.id, { onDelete: 'set null' }),
    reviewedAt: ts('reviewed_at'),
    reviewNotes: text('review_notes'),
  },
  (t) => [
    index('intake_submissions_user_idx').on(t.userId, t.submittedAt),
    index('intake_submissions_submitted_idx').on(t.submittedAt, t.id),
    index('intake_submissions_status_idx').on(t.status),
    index('intake_submissions_reviewed_by_idx').on(t.reviewedBy),
  ],
);

export const passwordResetTokens = pgTable(
  'password_reset_tokens',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    // SECURITY: only the SHA-256 of the token is stored; the token itself exists only in the e-mail.
    tokenHash: varchar('token_hash', { length: 64 }).notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    expiresAt: ts('expires_at').notNull(),
    used: boolean('used').notNull().default(false),
    usedAt: ts('used_at'),
    ipAddress: varchar('ip_address', { length: 45 }),
    userAgent: varchar('user_agent', { length: 500 }).notNull().default(''),
  },
  (t) => [
    uniqueIndex('password_reset_tokens_hash_uq').on(t.tokenHash),
    index('password_reset_tokens_user_idx').on(t.userId, t.createdAt),
  ],
);

export const twoFactorBackupCodes = pgTable(
  'two_factor_backup_codes',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    codeHash: varchar('code_hash', { length: 64 }).notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    used: boolean('used').notNull().default(false),
    usedAt: ts('used_at'),
  },
  (t) => [index('two_factor_backup_codes_user_idx').on(t.userId, t.codeHash)],
);

/** Counters of rate-limiter-flexible's PostgreSQL store (limits and lock-outs without Redis). */
export const rateLimits = pgTable('rate_limits', {
  key: varchar('key', { length: 255 }).primaryKey(),
  points: integer('points').notNull().default(0),
  expire: bigint('expire', { mode: 'number' }),
});

/**
 * The identity of this database, made once by its first migration. Every shared-store key carries it,
 * so a new database never meets the Redis state (sessions, counters) cached for another one.
 */
export const deployment = pgTable('deployment', {
  id: uuid('id').primaryKey().defaultRandom(),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const privacyPolicyVersions = pgTable(
  'privacy_policy_versions',
  {
    id: id(),
    version: varchar('version', { length: 20 }).notNull(),
    title: varchar('title', { length: 200 }).notNull(),
    content: text('content').notNull(),
    effectiveDate: date('effective_date', { mode: 'string' }).notNull(),
    isActive: boolean('is_active').notNull().default(false),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('privacy_policy_versions_version_uq').on(t.version),
    // At most one active version.
    uniqueIndex('privacy_policy_versions_one_active_uq')
      .on(t.isActive)
      .where(sql`${t.isActive}`),
    index('privacy_policy_versions_effective_idx').on(t.effectiveDate),
  ],
);

export const consentTypeEnum = pgEnum('consent_type', [
  'data_processing',
  'medical_data',
  'communications',
  'data_sharing',
]);

export const userConsents = pgTable(
  'user_consents',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    consentType: consentTypeEnum('consent_type').notNull(),
    policyVersionId: bigint('privacy_policy_version_id', { mode: 'number' })
      .notNull()
      .references(() => privacyPolicyVersions.id, { onDelete: 'restrict' }),
    granted: boolean('granted').notNull().default(true),
    grantedAt: ts('granted_at').notNull().defaultNow(),
    withdrawnAt: ts('withdrawn_at'),
    ipAddress: varchar('ip_address', { length: 45 }),
    userAgent: varchar('user_agent', { length: 500 }).notNull().default(''),
  },
  (t) => [
    uniqueIndex('user_consents_user_type_uq').on(t.userId, t.consentType),
    index('user_consents_policy_idx').on(t.policyVersionId),
    index('user_consents_granted_idx').on(t.userId, t.grantedAt),
  ],
);

/** Append-only history of consent decisions (survives erasure with IP/UA cleared). */
export const consentEvents = pgTable(
  'consent_events',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    consentType: consentTypeEnum('consent_type').notNull(),
    policyVersionId: bigint('privacy_policy_version_id', { mode: 'number' })
      .notNull()
      .references(() => privacyPolicyVersions.id, { onDelete: 'restrict' }),
    action: varchar('action', { length: 10 }).notNull(),
    at: ts('at').notNull().defaultNow(),
    ipAddress: varchar('ip_address', { length: 45 }),
    userAgent: varchar('user_agent', { length: 500 }),
  },
  (t) => [
    index('consent_events_user_at_idx').on(t.userId, t.at),
    index('consent_events_policy_idx').on(t.policyVersionId),
  ],
);

export const deletionStatusEnum = pgEnum('deletion_status', [
  'pending',
  'approved',
  'rejected',
  'completed',
  'cancelled',
]);

/** Deletion requests survive erasure (bare user id, no FK), as proof of the erasure. */
export const dataDeletionRequests = pgTable(
  'data_deletion_requests',
  {
    id: id(),
    userId: userRef('user_id').notNull(),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    status: deletionStatusEnum('status').notNull().default('pending'),
    reason: text('reason').notNull().default(''),
    reviewedBy: userRef('reviewed_by').references(() => users.id, { onDelete: 'set null' }),
    reviewedAt: ts('reviewed_at'),
    adminNotes: text('admin_notes').notNull().default(''),
    completedAt: ts('completed_at'),
    scheduledFor: ts('scheduled_for'),
    cancelledAt: ts('cancelled_at'),
    deletionProof: jsonb('deletion_proof').$type<Record<string, unknown>>(),
    retentionUntil: ts('retention_until'),
  },
  (t) => [
    index('data_deletion_requests_user_idx').on(t.userId, t.requestedAt),
    index('data_deletion_requests_status_idx').on(t.status, t.scheduledFor),
    index('data_deletion_requests_reviewed_by_idx').on(t.reviewedBy),
    index('data_deletion_requests_requested_idx').on(t.requestedAt),
  ],
);

export const exportStatusEnum = pgEnum('export_status', ['pending', 'processing', 'completed', 'failed']);

export const dataExportRequests = pgTable(
  'data_export_requests',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    requestedAt: ts('requested_at').notNull().defaultNow(),
    status: exportStatusEnum('status').notNull().default('pending'),
    completedAt: ts('completed_at'),
    // The original's file path; unused here (documents live in `document`, shared by every instance).
    filePath: text('file_path'),
    // PRIVACY: the export document, encrypted with the user's data key (shredded with it).
    document: text('document'),
    downloadCount: integer('download_count').notNull().default(0),
    expiresAt: ts('expires_at'),
    errorMessage: varchar('error_message', { length: 500 }),
    downloadTokenHash: varchar('download_token_hash', { length: 64 }),
  },
  (t) => [
    index('data_export_requests_user_idx').on(t.userId, t.requestedAt),
    index('data_export_requests_status_idx').on(t.status),
    index('data_export_requests_expires_idx').on(t.expiresAt),
    uniqueIndex('data_export_requests_token_uq').on(t.downloadTokenHash),
  ],
);

export const accountDeletionSchedules = pgTable(
  'account_deletion_schedules',
  {
    id: id(),
    userId: userRef('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    scheduledDeletionDate: ts('scheduled_deletion_date').notNull(),
    firstWarningSent: ts('first_warning_sent'),
    secondWarningSent: ts('second_warning_sent'),
    exempted: boolean('exempted').notNull().default(false),
    exemptionReason: text('exemption_reason').notNull().default(''),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('account_deletion_schedules_user_uq').on(t.userId),
    index('account_deletion_schedules_date_idx').on(t.scheduledDeletionDate),
  ],
);

/**
 * Background work written in the same transaction as the change that causes it (docs/operations.md#background-jobs):
 * a row is the durable intent of one job; `payload` is sealed (jobs/payload.ts), never plaintext. A row leaves
 * when its job has done its effect; with Redis it is handed to the queue (`dispatched_at`) and the queue's job
 * carries only the row id.
 */
export const jobOutbox = pgTable(
  'job_outbox',
  {
    id: id(),
    job: varchar('job', { length: 64 }).notNull(),
    payload: text('payload'),
    createdAt: ts('created_at').notNull().defaultNow(),
    dispatchedAt: ts('dispatched_at'),
    /** In-process runner (no Redis): attempts so far, when to try again, when it was given up. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull().defaultNow(),
    lastError: varchar('last_error', { length: 500 }),
    failedAt: ts('failed_at'),
  },
  (t) => [
    index('job_outbox_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`dispatched_at IS NULL AND failed_at IS NULL`),
  ],
);

/** The last slot each clock-scheduled job completed (a slot missed while everything was down runs at start). */
export const jobScheduleRuns = pgTable('job_schedule_runs', {
  job: varchar('job', { length: 64 }).primaryKey(),
  lastSlot: ts('last_slot').notNull(),
  finishedAt: ts('finished_at').notNull(),
});

/**
 * What `import:django` brought over (docs/migrating-from-django.md): one row per source row written here,
 * with a keyed digest of the source row as it was read (never its values), so a second run skips what
 * is unchanged, imports what changed in the original since, and never brings back what was erased here.
 */
export const djangoImportRows = pgTable(
  'django_import_rows',
  {
    sourceTable: varchar('source_table', { length: 64 }).notNull(),
    sourceId: bigint('source_id', { mode: 'number' }).notNull(),
    targetId: bigint('target_id', { mode: 'number' }).notNull(),
    digest: varchar('digest', { length: 32 }).notNull(),
    importedAt: ts('imported_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.sourceTable, t.sourceId] })],
);
