import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const secrets = () => ({
  SECRET_KEY: randomBytes(48).toString('base64url'),
  FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
});

describe('configuration', () => {
  it('listens on loopback outside production unless HOST says otherwise', () => {
    expect(loadConfig({ ...secrets() }).host).toBe('127.0.0.1');
    expect(loadConfig({ ...secrets(), APP_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(loadConfig({ ...secrets(), HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...secrets(), APP_ENV: 'production' }).host).toBe('0.0.0.0');
    expect(loadConfig({ ...secrets(), APP_ENV: 'production', HOST: '10.0.0.5' }).host).toBe('10.0.0.5');
  });

  it('warns about variables of the original that this service does not use, and still starts', () => {
    const config = loadConfig({
      ...secrets(),
      JWT_ALGORITHM: 'HS256',
      RECAPTCHA_PUBLIC_KEY: 'site-key',
      LEGACY_FIELD_ENCRYPTION_KEY: 'fernet-key',
      SENTRY_TRACES_SAMPLE_RATE: '0.1',
      RECAPTCHA_PRIVATE_KEY: '',
    });
    expect(config.warnings.map((w) => w.split(' ')[0])).toEqual([
      'JWT_ALGORITHM',
      'RECAPTCHA_PUBLIC_KEY',
      'LEGACY_FIELD_ENCRYPTION_KEY',
      'SENTRY_TRACES_SAMPLE_RATE',
    ]);
    expect(config.warnings[0]).toMatch(/^JWT_ALGORITHM is not used by this service: /);
    expect(loadConfig({ ...secrets(), JWT_ALGORITHM: '' }).warnings).toEqual([]);
  });

  it('keeps key backups KEY_BACKUP_RETENTION_DAYS (35) days, and warns when no KEY_BACKUP_DIR gets them', () => {
    expect(loadConfig({ ...secrets() }).keyBackup).toEqual({ dir: undefined, retentionDays: 35 });
    const set = loadConfig({
      ...secrets(),
      KEY_BACKUP_DIR: '/backups/keys',
      KEY_BACKUP_RETENTION_DAYS: '20',
    });
    expect(set.keyBackup).toEqual({ dir: '/backups/keys', retentionDays: 20 });
    expect(set.warnings).toEqual([]);
    const alone = loadConfig({ ...secrets(), KEY_BACKUP_RETENTION_DAYS: '20' });
    expect(alone.warnings).toEqual([
      expect.stringMatching(/^KEY_BACKUP_RETENTION_DAYS is set but KEY_BACKUP_DIR is not: /),
    ]);
    expect(() => loadConfig({ ...secrets(), KEY_BACKUP_RETENTION_DAYS: '0' })).toThrow(
      /KEY_BACKUP_RETENTION_DAYS/,
    );
    expect(() => loadConfig({ ...secrets(), KEY_BACKUP_RETENTION_DAYS: '366' })).toThrow(
      /KEY_BACKUP_RETENTION_DAYS/,
    );
  });

  it('takes LOG_FORMAT json or pretty, unset = chosen at start', () => {
    expect(loadConfig({ ...secrets() }).logFormat).toBeUndefined();
    expect(loadConfig({ ...secrets(), LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(() => loadConfig({ ...secrets(), LOG_FORMAT: 'yaml' })).toThrow(ConfigError);
  });

  it('checks SENTRY_DSN and names the environment after APP_ENV by default', () => {
    const dsn = 'https://abc123@o1.ingest.example.io/4507';
    expect(loadConfig({ ...secrets(), SENTRY_DSN: dsn }).sentry).toEqual({ dsn, environment: 'development' });
    expect(
      loadConfig({ ...secrets(), SENTRY_DSN: dsn, SENTRY_ENVIRONMENT: 'staging' }).sentry.environment,
    ).toBe('staging');
    expect(() => loadConfig({ ...secrets(), SENTRY_DSN: 'not a dsn' })).toThrow(/SENTRY_DSN/);
    expect(() => loadConfig({ ...secrets(), SENTRY_DSN: 'https://o1.ingest.example.io/4507' })).toThrow(
      /SENTRY_DSN/,
    );
  });
});
