import { availableParallelism } from 'node:os';
import { z } from 'zod';

/**
 * Every environment variable the service reads, parsed once at start (docs/operations.md#configuration).
 * Secrets have no defaults in production; in development they are generated into DATA_DIR by
 * `loadDevSecrets` (see lib/dev-secrets.ts) before this schema runs.
 */

const bool = (def: boolean) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      if (!/^-?\d+$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: `expected a whole number, got "${v}"` });
        return z.NEVER;
      }
      const n = Number(v);
      if (n < min || n > max) {
        ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}, got ${n}` });
        return z.NEVER;
      }
      return n;
    });

const num = (def: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === '') return def;
      const n = Number(v);
      if (!Number.isFinite(n)) {
        ctx.addIssue({ code: 'custom', message: `expected a number, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });

const list = (def: string) =>
  z
    .string()
    .optional()
    .transform((v) =>
      (v ?? def)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

const str = (def: string) =>
  z
    .string()
    .optional()
    .transform((v) => v ?? def);

const optStr = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

/** `5/15min`, `3/hour`, `30/minute`, `off`. */
export interface RateSpec {
  limit: number;
  windowSeconds: number;
}
const UNIT_SECONDS: Record<string, number> = {
  second: 1,
  sec: 1,
  s: 1,
  minute: 60,
  min: 60,
  m: 60,
  hour: 3600,
  h: 3600,
  day: 86400,
  d: 86400,
};
export function parseRate(raw: string): RateSpec | null | string {
  const v = raw.trim().toLowerCase();
  if (v === 'off' || v === 'none' || v === '0') return null;
  const m = /^(\d+)\s*\/\s*(\d*)\s*([a-z]+)$/.exec(v);
  if (!m) return `expected N/second|minute|hour|day, N/<k>min or off, got "${raw}"`;
  const unit = UNIT_SECONDS[m[3] ?? ''];
  if (!unit) return `unknown unit "${m[3] ?? ''}" in "${raw}"`;
  const k = m[2] ? Number(m[2]) : 1;
  const limit = Number(m[1]);
  if (limit < 1 || k < 1) return `rate must be positive, got "${raw}"`;
  return { limit, windowSeconds: unit * k };
}
const rate = (def: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const r = parseRate(v === undefined || v.trim() === '' ? def : v);
      if (typeof r === 'string') {
        ctx.addIssue({ code: 'custom', message: r });
        return z.NEVER;
      }
      return r;
    });

const appEnv = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const raw = (v ?? 'development').trim().toLowerCase();
    const mapped = ({ local: 'development', testing: 'test' } as Record<string, string>)[raw] ?? raw;
    if (mapped === 'development' || mapped === 'test' || mapped === 'production') return mapped;
    ctx.addIssue({ code: 'custom', message: `expected development, test or production, got "${raw}"` });
    return z.NEVER;
  });

const logLevel = z
  .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  .optional()
  .transform((v) => v ?? 'info');

const envSchema = z.object({
  APP_ENV: appEnv,
  PORT: int(8000, 0, 65535),
  HOST: optStr,
  BODY_LIMIT_BYTES: int(1048576, 1024, 100 * 1024 * 1024),
  DATABASE_URL: optStr,
  DIRECT_DATABASE_URL: optStr,
  DATABASE_POOL_MAX: int(10, 1, 1000),
  DATABASE_SSL: optStr,
  DATA_DIR: str('./data'),
  CONSOLE_DIR: optStr,
  REDIS_URL: optStr,
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1-64 characters of letters, digits, ":", ".", "_", "-"')
    .default('pss:'),
  JOB_RUNNER: z.enum(['worker', 'in-process']).optional(),
  WORKER_PORT: int(8001, 0, 65535),
  WORKER_CONCURRENCY: int(4, 1, 64),
  WORKER_LOCK_SECONDS: int(30, 2, 3600),
  SHUTDOWN_GRACE_SECONDS: int(25, 0, 600),
  SECRET_KEY: optStr,
  JWT_SIGNING_KEY: optStr,
  ACCESS_TOKEN_TTL: int(900, 30, 86400),
  REFRESH_TOKEN_TTL: int(604800, 60, 90 * 86400),
  SESSION_MAX_LIFETIME: int(2592000, 60, 365 * 86400),
  REFRESH_REUSE_GRACE_SECONDS: int(10, 0, 300),
  SESSION_IDLE_TIMEOUT: int(0, 0, 86400 * 30),
  FIELD_ENCRYPTION_KEYS: optStr,
  FIELD_ENCRYPTION_ACTIVE_KEY: optStr,
  BLIND_INDEX_KEY: optStr,
  AUDIT_CHAIN_KEY: optStr,
  TIME_ZONE: str('Africa/Johannesburg'),
  ALLOWED_HOSTS: list(''),
  CORS_ALLOWED_ORIGINS: optStr,
  TRUSTED_PROXIES: list('loopback,private'),
  SECURE_SSL_REDIRECT: optStr,
  SECURE_HSTS_SECONDS: optStr,
  FRONTEND_URL: optStr,
  ALLOWED_EMAIL_DOMAINS: list('capaciti.org.za'),
  RATE_LIMIT_LOGIN: rate('5/15min'),
  RATE_LIMIT_2FA_VERIFY: rate('5/15min'),
  RATE_LIMIT_REGISTER: rate('3/hour'),
  RATE_LIMIT_RESET_REQUEST: rate('3/hour'),
  RATE_LIMIT_RESET_CONFIRM: rate('5/15min'),
  RATE_LIMIT_REFRESH: rate('30/minute'),
  RATE_LIMIT_SENSITIVE_USER: rate('5/15min'),
  RATE_LIMIT_ANON: rate('10/minute'),
  RATE_LIMIT_USER: rate('1000/day'),
  // docs/operations.md#password-hashing: one core is left to everything else.
  PASSWORD_HASH_CONCURRENCY: int(Math.max(1, availableParallelism() - 1), 1, 256),
  PASSWORD_HASH_QUEUE: int(32, 0, 100_000),
  PASSWORD_HASH_MAX_WAIT_MS: int(2000, 1, 60_000),
  LOCKOUT_THRESHOLD: int(5, 1, 1000),
  LOCKOUT_IP_THRESHOLD: int(5, 1, 1000),
  LOCKOUT_WINDOW: int(900, 1, 86400),
  LOCKOUT_DURATION: int(900, 1, 86400 * 7),
  CAPTCHA_ENABLED: bool(false),
  CAPTCHA_PROVIDER: z
    .enum(['recaptcha', 'hcaptcha', 'turnstile'])
    .optional()
    .transform((v) => v ?? 'recaptcha'),
  CAPTCHA_TRIGGER_THRESHOLD: int(3, 0, 1000),
  CAPTCHA_FAILED_LOGIN_TIMEOUT: int(900, 1, 86400),
  CAPTCHA_VERIFY_URL: optStr,
  RECAPTCHA_PRIVATE_KEY: str(''),
  RECAPTCHA_REQUIRED_SCORE: num(0.5),
  CAPTCHA_BYPASS_IPS: list(''),
  EMAIL_BACKEND: z.enum(['console', 'smtp', 'memory']).optional(),
  EMAIL_HOST: str('smtp.gmail.com'),
  EMAIL_PORT: int(587, 1, 65535),
  EMAIL_USE_TLS: bool(true),
  EMAIL_HOST_USER: str(''),
  EMAIL_HOST_PASSWORD: str(''),
  DEFAULT_FROM_EMAIL: str('noreply@capaciti.org.za'),
  ADMIN_NOTIFICATION_EMAIL: str('admin@capaciti.org.za'),
  EMAIL_NOTIFICATIONS_ENABLED: bool(true),
  EMAIL_MAX_RETRIES: int(3, 0, 20),
  EMAIL_RETRY_DELAY_SECONDS: int(30, 0, 3600),
  INACTIVE_ACCOUNT_THRESHOLD_YEARS: int(2, 1, 50),
  INACTIVE_ACCOUNT_GRACE_PERIOD_DAYS: int(30, 0, 3650),
  INACTIVE_ACCOUNT_EXCLUDE_ROLES: list('admin,superuser'),
  INACTIVE_ACCOUNT_CLEANUP_EXECUTE: bool(false),
  DELETION_GRACE_PERIOD_DAYS: int(7, 0, 3650),
  AUDIT_LOG_RETENTION_DAYS: int(730, 1, 36500),
  SESSION_CLEANUP_DAYS: int(7, 0, 3650),
  EXPORT_TTL_HOURS: int(48, 1, 24 * 365),
  INTAKE_REQUIRE_MEDICAL_CONSENT: bool(false),
  PASSWORD_MAX_AGE_DAYS: int(0, 0, 3650),
  KEY_BACKUP_DIR: optStr,
  KEY_BACKUP_RETENTION_DAYS: int(35, 1, 365),
  DJANGO_SUPERUSER_EMAIL: optStr,
  DJANGO_SUPERUSER_PASSWORD: optStr,
  DJANGO_SUPERUSER_FIRST_NAME: str('Admin'),
  DJANGO_SUPERUSER_LAST_NAME: str('User'),
  SENTRY_DSN: optStr,
  SENTRY_ENVIRONMENT: optStr,
  METRICS_TOKEN: optStr,
  LOG_LEVEL: logLevel,
  LOG_FORMAT: z
    .enum(['json', 'pretty', ''])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  INFORMATION_OFFICER_EMAIL: optStr,
});

export type RawEnv = z.infer<typeof envSchema>;
export type AppEnv = 'development' | 'test' | 'production';

export interface Config {
  env: AppEnv;
  isProduction: boolean;
  port: number;
  /** Default: 127.0.0.1 outside production (it holds generated secrets and health data), 0.0.0.0 in production. */
  host: string;
  bodyLimit: number;
  databaseUrl: string | undefined;
  /**
   * The same database without a transaction pooler between (DIRECT_DATABASE_URL, else DATABASE_URL):
   * migrations run on it (docs/operations.md#connection-pooling).
   */
  directDatabaseUrl: string | undefined;
  databasePoolMax: number;
  databaseSsl: boolean;
  dataDir: string;
  /** The built staff console served at /admin/; unset = the build's own (plugins/admin-console.ts). */
  consoleDir: string | undefined;
  redisUrl: string | undefined;
  /** Start of every shared-store key; the deployment id follows it (docs/operations.md#dependency-outages). */
  redisKeyPrefix: string;
  /** Background jobs (docs/operations.md#background-jobs). */
  jobs: {
    /** `worker`: BullMQ on Redis, run by `npm run worker`; `in-process`: the web process runs them. */
    runner: 'worker' | 'in-process';
    workerPort: number;
    concurrency: number;
    lockMs: number;
  };
  /** How long SIGTERM waits for requests and jobs in flight before closing. */
  shutdownGraceMs: number;
  jwt: {
    signingKey: string;
    accessTtl: number;
    refreshTtl: number;
    setupTtl: number;
    sessionMaxLifetime: number;
    reuseGraceSeconds: number;
    idleTimeout: number;
  };
  encryption: {
    keys: Map<string, Buffer>;
    activeKeyId: string;
    blindIndexKey: Buffer;
    /** The audit chain's HMAC key (docs/privacy.md#append-only-chain); unset: derived from the blind-index key. */
    auditChainKey: Buffer | undefined;
  };
  timeZone: string;
  allowedHosts: string[];
  corsOrigins: string[];
  trustedProxies: string[];
  sslRedirect: boolean;
  hstsSeconds: number;
  frontendUrl: string;
  allowedEmailDomains: string[];
  rateLimits: Record<RateScope, RateSpec | null>;
  lockout: { threshold: number; ipThreshold: number; window: number; duration: number };
  /** The password-hashing gate (docs/operations.md#password-hashing). */
  passwordHashing: { concurrency: number; queue: number; maxWaitMs: number };
  captcha: {
    enabled: boolean;
    provider: 'recaptcha' | 'hcaptcha' | 'turnstile';
    triggerThreshold: number;
    failedLoginTimeout: number;
    verifyUrl: string | undefined;
    secret: string;
    requiredScore: number;
    bypassIps: string[];
  };
  email: {
    backend: 'console' | 'smtp' | 'memory';
    host: string;
    port: number;
    useTls: boolean;
    user: string;
    password: string;
    from: string;
    adminNotification: string;
    notificationsEnabled: boolean;
    maxRetries: number;
    retryDelaySeconds: number;
  };
  retention: {
    inactiveYears: number;
    inactiveGraceDays: number;
    inactiveExcludeRoles: string[];
    inactiveCleanupExecute: boolean;
    deletionGraceDays: number;
    auditLogRetentionDays: number;
    sessionCleanupDays: number;
    exportTtlHours: number;
  };
  intakeRequireMedicalConsent: boolean;
  /** Staff passwords older than this many days refuse sign-in (docs/auth.md#password-expiry); 0 = off. */
  passwordMaxAgeDays: number;
  /** Key backups (docs/privacy.md#key-backups): written daily to `dir` when set, each kept `retentionDays`. */
  keyBackup: { dir: string | undefined; retentionDays: number };
  bootstrapSuperuser: { email: string; password: string; firstName: string; lastName: string } | undefined;
  /** Error reporting (docs/operations.md#error-reporting); no DSN = off. */
  sentry: { dsn: string | undefined; environment: string };
  metricsToken: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Unset: pretty on a terminal outside production, else JSON (lib/logger.ts). */
  logFormat: 'json' | 'pretty' | undefined;
  informationOfficerEmail: string;
  /** Things worth telling the operator at start (variables this service does not use); the entry point logs them. */
  warnings: readonly string[];
}

export const RATE_SCOPES = [
  'login',
  '2fa_verify',
  'register',
  'reset_request',
  'reset_confirm',
  'refresh',
  'sensitive_user',
  'anon',
  'user',
] as const;
export type RateScope = (typeof RATE_SCOPES)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const PLACEHOLDER = /insecure|change[-_ ]?me|placeholder|your[-_ ]?secret|example/i;

function parseKeyRing(raw: string, problems: string[]): Map<string, Buffer> {
  const ring = new Map<string, Buffer>();
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const idx = part.indexOf(':');
    const kid = idx > 0 ? part.slice(0, idx) : '';
    const key = Buffer.from(idx > 0 ? part.slice(idx + 1) : '', 'base64');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid) || key.length !== 32) {
      problems.push(
        'FIELD_ENCRYPTION_KEYS: each entry must be kid:base64(32 bytes), kid of [A-Za-z0-9_-]{1,32}',
      );
      continue;
    }
    ring.set(kid, key);
  }
  return ring;
}

/**
 * Variables the original (or an earlier configuration) had that this service does not read, and why
 * (docs/operations.md#variables-not-used). Setting one is not an error, so a configuration written for the
 * original still starts; the entry point logs a warning for each.
 */
export const NOT_USED: Readonly<Record<string, string>> = {
  JWT_ALGORITHM: 'tokens are always signed with HS256',
  RECAPTCHA_PUBLIC_KEY: "the site key is the front end's setting; the API only needs RECAPTCHA_PRIVATE_KEY",
  LEGACY_FIELD_ENCRYPTION_KEY:
    "only the importer (npm run cli -- import:django) reads it; remove it from the service's environment after the move",
  SENTRY_TRACES_SAMPLE_RATE: 'only errors are reported to Sentry, no performance traces',
};

/** A retention set for key backups this service does not write (no `KEY_BACKUP_DIR`). */
function keyBackupWarnings(source: Record<string, string | undefined>): string[] {
  const retention = source.KEY_BACKUP_RETENTION_DAYS?.trim();
  if (!retention || source.KEY_BACKUP_DIR?.trim()) return [];
  return [
    `KEY_BACKUP_RETENTION_DAYS is set but KEY_BACKUP_DIR is not: this service writes no key backups, so keep every backup of the data_keys table your database platform makes no longer than ${retention} days (docs/privacy.md#key-backups)`,
  ];
}

function notUsedWarnings(source: Record<string, string | undefined>): string[] {
  return Object.entries(NOT_USED)
    .filter(([name]) => source[name] !== undefined && source[name].trim() !== '')
    .map(([name, why]) => `${name} is not used by this service: ${why}`);
}

function validSentryDsn(raw: string): boolean {
  try {
    const url = new URL(raw);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') &&
      url.username !== '' &&
      /^\/(.+\/)?\d+$/.test(url.pathname)
    );
  } catch {
    return false;
  }
}

/** Parse `source` (normally process.env). Throws ConfigError with one line per problem. */
export function loadConfig(source: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(lines);
  }
  const e = parsed.data;
  const env = e.APP_ENV;
  const isProduction = env === 'production';
  const problems: string[] = [];

  if (isProduction) {
    if (!e.SECRET_KEY) problems.push('SECRET_KEY: required in production');
    else if (e.SECRET_KEY.length < 50 || PLACEHOLDER.test(e.SECRET_KEY))
      problems.push('SECRET_KEY: must be at least 50 characters and not a placeholder');
    if (!e.FIELD_ENCRYPTION_KEYS) problems.push('FIELD_ENCRYPTION_KEYS: required in production');
    if (!e.BLIND_INDEX_KEY) problems.push('BLIND_INDEX_KEY: required in production');
  }
  const secretKey = e.SECRET_KEY ?? '';
  const signingKey = e.JWT_SIGNING_KEY ?? secretKey;
  if (!signingKey) problems.push('JWT_SIGNING_KEY or SECRET_KEY: required');
  else if (signingKey.length < 32) problems.push('JWT_SIGNING_KEY: must be at least 32 characters');

  const keys = parseKeyRing(e.FIELD_ENCRYPTION_KEYS ?? '', problems);
  if (keys.size === 0 && e.FIELD_ENCRYPTION_KEYS !== undefined)
    problems.push('FIELD_ENCRYPTION_KEYS: no valid key');
  if (keys.size === 0 && e.FIELD_ENCRYPTION_KEYS === undefined)
    problems.push('FIELD_ENCRYPTION_KEYS: required');
  const activeKeyId = e.FIELD_ENCRYPTION_ACTIVE_KEY ?? [...keys.keys()].at(-1) ?? '';
  if (keys.size > 0 && !keys.has(activeKeyId))
    problems.push(`FIELD_ENCRYPTION_ACTIVE_KEY: "${activeKeyId}" is not in FIELD_ENCRYPTION_KEYS`);
  const blindIndexKey = Buffer.from(e.BLIND_INDEX_KEY ?? '', 'base64');
  if (blindIndexKey.length < 32) problems.push('BLIND_INDEX_KEY: must be base64 of at least 32 bytes');
  const auditChainKey =
    e.AUDIT_CHAIN_KEY === undefined ? undefined : Buffer.from(e.AUDIT_CHAIN_KEY, 'base64');
  if (auditChainKey !== undefined && auditChainKey.length < 32)
    problems.push('AUDIT_CHAIN_KEY: must be base64 of at least 32 bytes');

  const corsDefault = isProduction
    ? 'https://pss-frontend-ebon.vercel.app'
    : 'http://localhost:5173,http://127.0.0.1:5173';
  const corsOrigins = (e.CORS_ALLOWED_ORIGINS ?? corsDefault)
    .split(',')
    .map((s) => s.trim().replace(/\/+$/, ''))
    .filter(Boolean);
  if (corsOrigins.includes('*')) problems.push('CORS_ALLOWED_ORIGINS: "*" is not allowed; list the origins');
  for (const o of corsOrigins) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o))
      problems.push(`CORS_ALLOWED_ORIGINS: "${o}" is not an origin`);
  }

  const frontendUrl = (
    e.FRONTEND_URL ?? (isProduction ? (corsOrigins[0] ?? '') : 'http://localhost:5173')
  ).replace(/\/+$/, '');
  try {
    new Intl.DateTimeFormat('en', { timeZone: e.TIME_ZONE });
  } catch {
    problems.push(`TIME_ZONE: unknown time zone "${e.TIME_ZONE}"`);
  }
  const hsts =
    e.SECURE_HSTS_SECONDS === undefined ? (isProduction ? 31536000 : 0) : Number(e.SECURE_HSTS_SECONDS);
  if (!Number.isInteger(hsts) || hsts < 0) problems.push('SECURE_HSTS_SECONDS: expected a whole number');
  const sslRedirectRaw = (e.SECURE_SSL_REDIRECT ?? (isProduction ? 'true' : 'false')).toLowerCase();
  if (!['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'].includes(sslRedirectRaw))
    problems.push('SECURE_SSL_REDIRECT: expected true or false');
  const sslRaw = (e.DATABASE_SSL ?? (isProduction ? 'require' : 'disable')).toLowerCase();
  if (!['require', 'disable', 'true', 'false'].includes(sslRaw))
    problems.push('DATABASE_SSL: expected require or disable');

  let bootstrapSuperuser: Config['bootstrapSuperuser'];
  if (e.DJANGO_SUPERUSER_EMAIL || e.DJANGO_SUPERUSER_PASSWORD) {
    if (!e.DJANGO_SUPERUSER_EMAIL || !e.DJANGO_SUPERUSER_PASSWORD)
      problems.push('DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD: set both or neither');
    else
      bootstrapSuperuser = {
        email: e.DJANGO_SUPERUSER_EMAIL,
        password: e.DJANGO_SUPERUSER_PASSWORD,
        firstName: e.DJANGO_SUPERUSER_FIRST_NAME,
        lastName: e.DJANGO_SUPERUSER_LAST_NAME,
      };
  }
  if (e.SENTRY_DSN !== undefined && !validSentryDsn(e.SENTRY_DSN))
    problems.push('SENTRY_DSN: expected http(s)://<public key>@<host>/<project id>');
  if (e.JOB_RUNNER === 'worker' && !e.REDIS_URL)
    problems.push(
      'JOB_RUNNER: "worker" needs REDIS_URL (the queue lives in Redis); use "in-process" without Redis',
    );
  if (e.DIRECT_DATABASE_URL && !e.DATABASE_URL)
    problems.push('DIRECT_DATABASE_URL: set DATABASE_URL too (the direct URL is only used beside it)');
  if (problems.length) throw new ConfigError(problems);

  return Object.freeze({
    env,
    isProduction,
    port: e.PORT,
    host: e.HOST ?? (isProduction ? '0.0.0.0' : '127.0.0.1'),
    bodyLimit: e.BODY_LIMIT_BYTES,
    databaseUrl: e.DATABASE_URL,
    directDatabaseUrl: e.DIRECT_DATABASE_URL ?? e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    databaseSsl: sslRaw === 'require' || sslRaw === 'true',
    dataDir: e.DATA_DIR,
    consoleDir: e.CONSOLE_DIR,
    redisUrl: e.REDIS_URL,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    jobs: {
      runner: e.JOB_RUNNER ?? (e.REDIS_URL ? 'worker' : 'in-process'),
      workerPort: e.WORKER_PORT,
      concurrency: e.WORKER_CONCURRENCY,
      lockMs: e.WORKER_LOCK_SECONDS * 1000,
    },
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    jwt: {
      signingKey,
      accessTtl: e.ACCESS_TOKEN_TTL,
      refreshTtl: e.REFRESH_TOKEN_TTL,
      setupTtl: 900,
      sessionMaxLifetime: e.SESSION_MAX_LIFETIME,
      reuseGraceSeconds: e.REFRESH_REUSE_GRACE_SECONDS,
      idleTimeout: e.SESSION_IDLE_TIMEOUT,
    },
    encryption: {
      keys,
      activeKeyId,
      blindIndexKey,
      auditChainKey,
    },
    timeZone: e.TIME_ZONE,
    allowedHosts: e.ALLOWED_HOSTS,
    corsOrigins,
    trustedProxies: e.TRUSTED_PROXIES,
    sslRedirect: ['true', '1', 'yes', 'on'].includes(sslRedirectRaw),
    hstsSeconds: hsts,
    frontendUrl,
    allowedEmailDomains: e.ALLOWED_EMAIL_DOMAINS.map((d) => d.toLowerCase()),
    rateLimits: {
      login: e.RATE_LIMIT_LOGIN,
      '2fa_verify': e.RATE_LIMIT_2FA_VERIFY,
      register: e.RATE_LIMIT_REGISTER,
      reset_request: e.RATE_LIMIT_RESET_REQUEST,
      reset_confirm: e.RATE_LIMIT_RESET_CONFIRM,
      refresh: e.RATE_LIMIT_REFRESH,
      sensitive_user: e.RATE_LIMIT_SENSITIVE_USER,
      anon: e.RATE_LIMIT_ANON,
      user: e.RATE_LIMIT_USER,
    },
    lockout: {
      threshold: e.LOCKOUT_THRESHOLD,
      ipThreshold: e.LOCKOUT_IP_THRESHOLD,
      window: e.LOCKOUT_WINDOW,
      duration: e.LOCKOUT_DURATION,
    },
    passwordHashing: {
      concurrency: e.PASSWORD_HASH_CONCURRENCY,
      queue: e.PASSWORD_HASH_QUEUE,
      maxWaitMs: e.PASSWORD_HASH_MAX_WAIT_MS,
    },
    captcha: {
      enabled: e.CAPTCHA_ENABLED,
      provider: e.CAPTCHA_PROVIDER,
      triggerThreshold: e.CAPTCHA_TRIGGER_THRESHOLD,
      failedLoginTimeout: e.CAPTCHA_FAILED_LOGIN_TIMEOUT,
      verifyUrl: e.CAPTCHA_VERIFY_URL,
      secret: e.RECAPTCHA_PRIVATE_KEY,
      requiredScore: e.RECAPTCHA_REQUIRED_SCORE,
      bypassIps: e.CAPTCHA_BYPASS_IPS,
    },
    email: {
      backend: e.EMAIL_BACKEND ?? (isProduction ? 'smtp' : 'console'),
      host: e.EMAIL_HOST,
      port: e.EMAIL_PORT,
      useTls: e.EMAIL_USE_TLS,
      user: e.EMAIL_HOST_USER,
      password: e.EMAIL_HOST_PASSWORD,
      from: e.DEFAULT_FROM_EMAIL,
      adminNotification: e.ADMIN_NOTIFICATION_EMAIL,
      notificationsEnabled: e.EMAIL_NOTIFICATIONS_ENABLED,
      maxRetries: e.EMAIL_MAX_RETRIES,
      retryDelaySeconds: e.EMAIL_RETRY_DELAY_SECONDS,
    },
    retention: {
      inactiveYears: e.INACTIVE_ACCOUNT_THRESHOLD_YEARS,
      inactiveGraceDays: e.INACTIVE_ACCOUNT_GRACE_PERIOD_DAYS,
      inactiveExcludeRoles: e.INACTIVE_ACCOUNT_EXCLUDE_ROLES,
      inactiveCleanupExecute: e.INACTIVE_ACCOUNT_CLEANUP_EXECUTE,
      deletionGraceDays: e.DELETION_GRACE_PERIOD_DAYS,
      auditLogRetentionDays: e.AUDIT_LOG_RETENTION_DAYS,
      sessionCleanupDays: e.SESSION_CLEANUP_DAYS,
      exportTtlHours: e.EXPORT_TTL_HOURS,
    },
    intakeRequireMedicalConsent: e.INTAKE_REQUIRE_MEDICAL_CONSENT,
    passwordMaxAgeDays: e.PASSWORD_MAX_AGE_DAYS,
    keyBackup: { dir: e.KEY_BACKUP_DIR, retentionDays: e.KEY_BACKUP_RETENTION_DAYS },
    bootstrapSuperuser,
    sentry: {
      dsn: e.SENTRY_DSN,
      environment: e.SENTRY_ENVIRONMENT ?? env,
    },
    metricsToken: e.METRICS_TOKEN,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    informationOfficerEmail: e.INFORMATION_OFFICER_EMAIL ?? e.ADMIN_NOTIFICATION_EMAIL,
    warnings: Object.freeze([...notUsedWarnings(source), ...keyBackupWarnings(source)]),
  });
}
