import { randomUUID } from 'node:crypto';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { DbOrTx, Tx } from '../../db/client.js';
import { dataKeys, users } from '../../db/schema.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { notFound } from '../../lib/errors.js';
import type { KeyValueStore } from '../../lib/kv.js';
import { serviceUnavailable } from '../../lib/unavailable.js';

/**
 * Per-user data keys. Unwrapped keys are kept in a small in-process cache for a short time (they
 * are needed on most reads).
 *
 * PRIVACY: erasure is final (crypto-shredding, docs/privacy.md#encryption-and-keys):
 *  - Writes go through `obtain`, which first takes the subject's user row `FOR KEY SHARE` and
 *    answers 404 for an erased (anonymised) or unknown subject. Erasure holds that row `FOR UPDATE`
 *    from its start, so the two serialize per subject: a write either commits before the erasure
 *    (which then deletes what it wrote) or sees the anonymised row. So no key is created for an
 *    erased subject, and no write uses a cached key of one.
 *  - Reads may use the cache, tagged with the erasure epoch in the shared store. Every erasure
 *    sets a new epoch before it commits (`invalidateAll`), and every lookup reads it, so a cached
 *    key is dropped on every instance before the erasure completes. A key is loaded into the cache
 *    under the same row lock, so a load racing an erasure waits for it and finds no key.
 */
const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 5000;
const EPOCH_KEY = 'dk:epoch';
/** Far longer than CACHE_MS: an entry never outlives the epoch it was tagged with. */
const EPOCH_TTL_SECONDS = 86_400;
const NO_EPOCH = '-';

/**
 * Locks the subject's user row against a concurrent erasure (`FOR KEY SHARE`, held to the end of
 * the caller's transaction); false when the user does not exist or was erased. Writers about a
 * subject call it before locking any row of the subject's data (erasure locks in that order too).
 */
export async function lockLiveSubject(tx: Tx, userId: number): Promise<boolean> {
  const rows = await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.id, userId), isNull(users.anonymizedAt)))
    .for('key share');
  return rows.length > 0;
}

/**
 * For batch work that must not wait on anyone (keys:reencrypt): locks these users' rows `FOR KEY
 * SHARE`, skipping those locked by an erasure or another exclusive lock, and says which are live and
 * which erased. Ids in neither set are locked elsewhere (or gone): try them again later.
 */
export async function lockSubjectsSkipLocked(
  tx: Tx,
  userIds: readonly number[],
): Promise<{ live: Set<number>; erased: Set<number> }> {
  const out = { live: new Set<number>(), erased: new Set<number>() };
  if (userIds.length === 0) return out;
  const rows = await tx
    .select({ id: users.id, anonymizedAt: users.anonymizedAt })
    .from(users)
    .where(inArray(users.id, [...userIds]))
    .for('key share', { skipLocked: true });
  for (const row of rows) (row.anonymizedAt === null ? out.live : out.erased).add(row.id);
  return out;
}

/** As `lockLiveSubject`, answering 404 when the subject is gone. */
export async function assertLiveSubject(tx: Tx, userId: number): Promise<void> {
  if (!(await lockLiveSubject(tx, userId))) throw notFound();
}

export function createDataKeyStore(cipher: FieldCipher, kv: KeyValueStore, now: () => number = Date.now) {
  const cache = new Map<number, { dek: Buffer; until: number; epoch: string }>();

  const remember = (userId: number, dek: Buffer, epoch: string) => {
    if (cache.size >= CACHE_MAX) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(userId, { dek, until: now() + CACHE_MS, epoch });
  };

  /** The current erasure epoch; null when the shared store cannot say (then the cache is bypassed). */
  async function currentEpoch(): Promise<string | null> {
    try {
      return (await kv.get(EPOCH_KEY)) ?? NO_EPOCH;
    } catch {
      return null;
    }
  }

  const cached = (userId: number, epoch: string | null) => {
    const hit = cache.get(userId);
    if (!hit) return null;
    if (hit.until > now() && hit.epoch === epoch) return hit.dek;
    cache.delete(userId);
    return null;
  };

  /** Loads keys from the database under the subjects' row locks (see the module comment). */
  async function load(db: DbOrTx, userIds: number[], epoch: string | null): Promise<Map<number, Buffer>> {
    const out = new Map<number, Buffer>();
    if (userIds.length === 0) return out;
    const rows = await db
      .select({ userId: dataKeys.userId, masterKeyId: dataKeys.masterKeyId, wrappedKey: dataKeys.wrappedKey })
      .from(dataKeys)
      .innerJoin(users, eq(users.id, dataKeys.userId))
      .where(inArray(dataKeys.userId, userIds))
      .for('key share', { of: users });
    for (const row of rows) {
      const dek = cipher.unwrap(row.userId, row);
      if (epoch !== null) remember(row.userId, dek, epoch);
      out.set(row.userId, dek);
    }
    return out;
  }

  /** Loads several users' keys with one query (lists must not issue a query per row). */
  async function findMany(db: DbOrTx, userIds: number[]): Promise<Map<number, Buffer>> {
    const epoch = await currentEpoch();
    const out = new Map<number, Buffer>();
    const missing: number[] = [];
    for (const id of new Set(userIds)) {
      const dek = cached(id, epoch);
      if (dek) out.set(id, dek);
      else missing.push(id);
    }
    for (const [id, dek] of await load(db, missing, epoch)) out.set(id, dek);
    return out;
  }

  return {
    /** For reading: the user's key, or null when they have none (erased, or never had data). */
    async find(db: DbOrTx, userId: number): Promise<Buffer | null> {
      return (await findMany(db, [userId])).get(userId) ?? null;
    },
    findMany,
    /**
     * For writing: the user's key, created on first use, inside the caller's transaction, with the
     * subject locked and checked live first (404 for an erased or unknown subject).
     */
    async obtain(tx: Tx, userId: number): Promise<Buffer> {
      await assertLiveSubject(tx, userId);
      // Live and locked: the subject cannot be erased before this transaction ends, so a cached
      // key is still theirs (keys change only by erasure; rotation re-wraps the same key).
      const hit = cache.get(userId);
      if (hit && hit.until > now()) return hit.dek;
      const existing = (await load(tx, [userId], null)).get(userId);
      if (existing) return existing;
      const dek = cipher.newDataKey();
      const wrapped = cipher.wrap(userId, dek);
      const inserted = await tx
        .insert(dataKeys)
        .values({ userId, ...wrapped })
        .onConflictDoNothing()
        .returning({ userId: dataKeys.userId });
      if (inserted.length === 0) {
        // Another request created it first: use theirs.
        const theirs = (await load(tx, [userId], null)).get(userId);
        if (!theirs) throw new Error('data key vanished during creation');
        return theirs;
      }
      // Not cached until committed: a rolled-back key must never encrypt anything later.
      return dek;
    },
    /**
     * A cached key, without any statement, for a write whose insert locks the subject live itself
     * (`insertForLiveSubject`): when that insert succeeds the subject was live and is locked, so the
     * key is theirs (keys change only by erasure). Undefined when not cached: use `obtain`.
     */
    peek(userId: number): Buffer | undefined {
      const hit = cache.get(userId);
      return hit && hit.until > now() ? hit.dek : undefined;
    },
    /**
     * Inside an erasure's transaction, before it commits: every instance drops its cached keys at
     * its next lookup. A store failure is a 503 that rolls the erasure back.
     */
    async invalidateAll(): Promise<void> {
      try {
        await kv.set(EPOCH_KEY, randomUUID(), EPOCH_TTL_SECONDS);
      } catch (err) {
        throw serviceUnavailable('Key store unavailable. Please try again later.', err);
      }
    },
    /** After an erasure committed: this instance forgets the key at once. */
    evict(userId: number) {
      cache.delete(userId);
    },
  };
}
export type DataKeyStore = ReturnType<typeof createDataKeyStore>;
