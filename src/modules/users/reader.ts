import type { DbOrTx } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { VersionedCache } from '../../lib/versioned-cache.js';
import type { DataKeyStore } from '../keys/index.js';
import { createUserRepo, type UserWithProfile } from './repo.js';
import { type Formatter, type UserResponse, userResponse } from './serialize.js';

export interface UserReaderDeps {
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  fmt: Formatter;
  /** User objects kept until a write changes them (docs/operations.md#caches). */
  cache?: VersionedCache<UserResponse>;
}

/** Loads users with their decrypted profiles in a fixed number of queries, whatever the count. */
export function createUserReader(deps: UserReaderDeps) {
  const { cipher, dataKeys, fmt, cache } = deps;
  const present = async (db: DbOrTx, rows: UserWithProfile[]): Promise<UserResponse[]> => {
    const withData = rows.filter((r) => r.profile !== null).map((r) => r.id);
    const keys = await dataKeys.findMany(db, withData);
    return rows.map((r) => userResponse(cipher, keys.get(r.id), r, fmt));
  };
  const one = async (db: DbOrTx, userId: number): Promise<UserResponse | null> => {
    const row = await createUserRepo(db).findWithProfile(userId);
    if (!row) return null;
    const [out] = await present(db, [row]);
    return out ?? null;
  };
  return {
    present,
    /** As the database has it now (inside a transaction: as that transaction sees it). */
    one,
    /**
     * Outside transactions only: the cached object when no committed write changed it since
     * (every writer of users and profiles reports its change before answering).
     */
    async current(db: DbOrTx, userId: number): Promise<UserResponse | null> {
      return cache ? cache.get(String(userId), () => one(db, userId)) : one(db, userId);
    },
    async many(db: DbOrTx, ids: number[]): Promise<UserResponse[]> {
      return present(db, await createUserRepo(db).findManyWithProfiles(ids));
    },
  };
}
export type UserReader = ReturnType<typeof createUserReader>;
