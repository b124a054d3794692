import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer, type Container } from '../src/container.js';
import type { Database } from '../src/db/client.js';
import { dataKeys } from '../src/db/schema.js';
import { dataKeyStatus, rotateDataKeys } from '../src/modules/keys/rotation.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { STRONG_PASSWORD } from './helpers/app.js';

/**
 * Master-key rotation while the service serves: data keys wrapped by k1 are re-wrapped by k2
 * during concurrent reads and writes; nothing becomes unreadable, and afterwards k1 can go.
 */
const k1 = `k1:${randomBytes(32).toString('base64')}`;
const k2 = `k2:${randomBytes(32).toString('base64')}`;
const blind = randomBytes(32).toString('base64');
const secret = randomBytes(48).toString('base64url');
const env = (keys: string, active: string) => ({
  FIELD_ENCRYPTION_KEYS: keys,
  FIELD_ENCRYPTION_ACTIVE_KEY: active,
  BLIND_INDEX_KEY: blind,
  SECRET_KEY: secret,
});

let database: Database;
let drop: () => Promise<void>;
const containers: Container[] = [];
const open = async (keys: string, active: string) => {
  const c = await createContainer(testConfig(env(keys, active)), { database, migrate: false });
  containers.push(c);
  const app = await buildApp(c);
  await app.ready();
  return { c, app };
};

beforeAll(async () => {
  ({ database, drop } = await freshDatabase());
});
afterAll(async () => {
  for (const c of containers) await c.close();
  await drop();
});

describe('keys:rotate', () => {
  it('re-wraps every data key under concurrent reads and writes and loses nothing', async () => {
    // Before: only k1 exists. Twelve candidates, each with a journal entry.
    const before = await open(k1, 'k1');
    const users: { email: string; access: string; entryId: number }[] = [];
    for (let i = 0; i < 12; i += 1) {
      const email = `rot${i}.${Date.now().toString(36)}@capaciti.org.za`;
      const reg = await before.app.inject({
        method: 'POST',
        url: '/api/auth/register/',
        payload: { email, password: STRONG_PASSWORD },
      });
      const access = reg.json().access as string;
      const entry = await before.app.inject({
        method: 'POST',
        url: '/api/journal/',
        headers: { authorization: `Bearer ${access}` },
        payload: { date: '2026-01-01', mood: 'good', energy_level: 5, activities: `rotation marker ${i}` },
      });
      users.push({ email, access, entryId: entry.json().id });
    }
    expect(await dataKeyStatus(database.db, new Set(['k1', 'k2']))).toEqual([
      { masterKeyId: 'k1', dataKeys: 12, configured: true },
    ]);

    // The new key is deployed (both configured, k2 active); rotation runs while the app serves.
    const during = await open(`${k1},${k2}`, 'k2');
    const auth = (u: (typeof users)[number]) => ({ authorization: `Bearer ${u.access}` });
    const traffic = (async () => {
      const failures: string[] = [];
      for (let round = 0; round < 4; round += 1) {
        for (const [i, u] of users.entries()) {
          const read = await during.app.inject({
            method: 'GET',
            url: `/api/journal/${u.entryId}/`,
            headers: auth(u),
          });
          if (read.statusCode !== 200 || read.json().activities !== `rotation marker ${i}`)
            failures.push(`read ${i}`);
          const write = await during.app.inject({
            method: 'PATCH',
            url: `/api/users/${read.json().user}/profile/`,
            headers: auth(u),
            payload: { diagnosis: `diagnosis ${i} round ${round}` },
          });
          if (write.statusCode !== 200) failures.push(`write ${i}: ${write.statusCode}`);
        }
      }
      return failures;
    })();
    const result = await rotateDataKeys(during.c);
    expect(await traffic).toEqual([]);
    expect(result.rewrapped).toBe(12);
    expect(await dataKeyStatus(database.db, new Set(['k2']))).toEqual([
      { masterKeyId: 'k2', dataKeys: 12, configured: true },
    ]);

    // After: k1 is removed from the configuration; every value still reads back.
    const after = await open(k2, 'k2');
    for (const [i, u] of users.entries()) {
      const entry = await after.app.inject({
        method: 'GET',
        url: `/api/journal/${u.entryId}/`,
        headers: auth(u),
      });
      expect(entry.json().activities).toBe(`rotation marker ${i}`);
      const me = await after.app.inject({ method: 'GET', url: '/api/auth/me/', headers: auth(u) });
      expect(me.json().profile.diagnosis).toBe(`diagnosis ${i} round 3`);
    }
    const rows = await database.db.select().from(dataKeys);
    expect(rows.every((r) => r.masterKeyId === 'k2' && r.rewrappedAt !== null)).toBe(true);
  });

  it('a second run has nothing to do', async () => {
    const c = containers.at(-1)!;
    expect((await rotateDataKeys(c)).rewrapped).toBe(0);
  });
});
