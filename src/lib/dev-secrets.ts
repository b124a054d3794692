import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Development only: secrets missing from the environment are generated once and kept in
 * `<DATA_DIR>/dev-secrets.json` (mode 0600), so restarts keep tokens and encrypted data readable.
 * Production never gets here: config.ts refuses to start without real secrets.
 */
const GENERATED = [
  'SECRET_KEY',
  'FIELD_ENCRYPTION_KEYS',
  'FIELD_ENCRYPTION_ACTIVE_KEY',
  'BLIND_INDEX_KEY',
] as const;

function generate(): Record<(typeof GENERATED)[number], string> {
  return {
    SECRET_KEY: randomBytes(48).toString('base64url'),
    FIELD_ENCRYPTION_KEYS: `dev1:${randomBytes(32).toString('base64')}`,
    FIELD_ENCRYPTION_ACTIVE_KEY: 'dev1',
    BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
  };
}

export function withDevSecrets(env: Record<string, string | undefined>): {
  env: Record<string, string | undefined>;
  generated: string[];
  file: string | null;
} {
  const appEnv = (env.APP_ENV ?? env.DJANGO_ENVIRONMENT ?? 'development').toLowerCase();
  if (appEnv === 'production') return { env, generated: [], file: null };
  const missing = GENERATED.filter((name) => !env[name]);
  if (missing.length === 0 || (missing.length === 1 && missing[0] === 'FIELD_ENCRYPTION_ACTIVE_KEY')) {
    return { env, generated: [], file: null };
  }
  const dir = path.resolve(env.DATA_DIR ?? './data');
  const file = path.join(dir, 'dev-secrets.json');
  let stored: Record<string, string>;
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  } else {
    mkdirSync(dir, { recursive: true });
    stored = generate();
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  const out = { ...env };
  const generated: string[] = [];
  for (const name of missing) {
    // The active key id only comes from the file together with the key ring it names.
    if (name === 'FIELD_ENCRYPTION_ACTIVE_KEY' && env.FIELD_ENCRYPTION_KEYS) continue;
    if (stored[name]) {
      out[name] = stored[name];
      generated.push(name);
    }
  }
  return { env: out, generated, file };
}
