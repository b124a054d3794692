import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../../src/config.js';

/** A complete, valid test configuration; secrets are random per run. */
export function testConfig(overrides: Record<string, string | undefined> = {}): Config {
  return loadConfig({
    APP_ENV: 'test',
    DATA_DIR: ':memory:',
    SECRET_KEY: randomBytes(48).toString('base64url'),
    FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    FIELD_ENCRYPTION_ACTIVE_KEY: 'k1',
    BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
    EMAIL_BACKEND: 'memory',
    // Every injected request comes from 127.0.0.1: throttles and the per-address lock-out would
    // couple unrelated tests. Their own tests switch them back on.
    RATE_LIMIT_USER: 'off',
    RATE_LIMIT_ANON: 'off',
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_2FA_VERIFY: 'off',
    RATE_LIMIT_REGISTER: 'off',
    RATE_LIMIT_RESET_REQUEST: 'off',
    RATE_LIMIT_RESET_CONFIRM: 'off',
    RATE_LIMIT_REFRESH: 'off',
    RATE_LIMIT_SENSITIVE_USER: 'off',
    LOCKOUT_IP_THRESHOLD: '1000',
    // No staff console, whether or not `npm run build` left one in dist/ (tests that want it set their own).
    CONSOLE_DIR: '/nonexistent/pss-console',
    // Jobs run in the test's own process (a test that wants the queue and a worker says so).
    JOB_RUNNER: 'in-process',
    ...overrides,
  });
}
