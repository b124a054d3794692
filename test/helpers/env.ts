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
    RATE_LIMIT_USER: 'off',
    RATE_LIMIT_ANON: 'off',
    ...overrides,
  });
}
