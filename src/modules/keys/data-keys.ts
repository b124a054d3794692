import { eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { dataKeys } from '../../db/schema.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';

/**
 * Per-user data keys. Unwrapped keys are kept in a small in-process cache for a short time (they
 * are needed on most reads); erasure deletes the row and evicts the entry here, and any other
 * instance's copy expires within CACHE_MS.
 */
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 5000;

export function createDataKeyStore(cipher: FieldCipher, now: () => number = Date.now) {
  const cache = new Map<number, { dek: Buffer; until: number }>();

  const remember = (userId: number, dek: Buffer) => {
    if (cache.size >= CACHE_MAX) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(userId, { dek, until: now() + CACHE_MS });
  };

  async function find(db: DbOrTx, userId: number): Promise<Buffer | null> {
    const hit = cache.get(userId);
    if (hit && hit.until > now()) return hit.dek;
    const rows = await db.select().from(dataKeys).where(eq(dataKeys.userId, userId)).limit(1);
    const row = rows[0];
    if (!row) return null;
    const dek = cipher.unwrap(userId, row);
    remember(userId, dek);
    return dek;
  }

  return {
    find,
    /** The user's key, created on first use (inside the caller's transaction). */
    async obtain(db: DbOrTx, userId: number): Promise<Buffer> {
      const existing = await find(db, userId);
      if (existing) return existing;
      const dek = cipher.newDataKey();
      const wrapped = cipher.wrap(userId, dek);
      const inserted = await db
        .insert(dataKeys)
        .values({ userId, ...wrapped })
        .onConflictDoNothing()
        .returning({ userId: dataKeys.userId });
      if (inserted.length === 0) {
        // Another request created it first: use theirs.
        cache.delete(userId);
        const theirs = await find(db, userId);
        if (!theirs) throw new Error('data key vanished during creation');
        return theirs;
      }
      // Not cached until committed: a rolled-back key must never encrypt anything later.
      return dek;
    },
    /** Loads several users' keys with one query (lists must not issue a query per row). */
    async findMany(db: DbOrTx, userIds: number[]): Promise<Map<number, Buffer>> {
      const out = new Map<number, Buffer>();
      const missing: number[] = [];
      for (const id of new Set(userIds)) {
        const hit = cache.get(id);
        if (hit && hit.until > now()) out.set(id, hit.dek);
        else missing.push(id);
      }
      if (missing.length) {
        const rows = await db.select().from(dataKeys).where(inArray(dataKeys.userId, missing));
        for (const row of rows) {
          const dek = cipher.unwrap(row.userId, row);
          remember(row.userId, dek);
          out.set(row.userId, dek);
        }
      }
      return out;
    },
    evict(userId: number) {
      cache.delete(userId);
    },
  };
}
export type DataKeyStore = ReturnType<typeof createDataKeyStore>;
