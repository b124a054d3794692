import type { DbOrTx } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { DataKeyStore } from '../keys/index.js';
import { createUserRepo, type UserWithProfile } from './repo.js';
import { type Formatter, type UserResponse, userResponse } from './serialize.js';

/** Loads users with their decrypted profiles in a fixed number of queries, whatever the count. */
export function createUserReader(deps: { cipher: FieldCipher; dataKeys: DataKeyStore; fmt: Formatter }) {
  const { cipher, dataKeys, fmt } = deps;
  const present = async (db: DbOrTx, rows: UserWithProfile[]): Promise<UserResponse[]> => {
    const withData = rows.filter((r) => r.profile !== null).map((r) => r.id);
    const keys = await dataKeys.findMany(db, withData);
    return rows.map((r) => userResponse(cipher, keys.get(r.id), r, fmt));
  };
  return {
    present,
    async one(db: DbOrTx, userId: number): Promise<UserResponse | null> {
      const row = await createUserRepo(db).findWithProfile(userId);
      if (!row) return null;
      const [out] = await present(db, [row]);
      return out ?? null;
    },
    async many(db: DbOrTx, ids: number[]): Promise<UserResponse[]> {
      return present(db, await createUserRepo(db).findManyWithProfiles(ids));
    },
  };
}
export type UserReader = ReturnType<typeof createUserReader>;
