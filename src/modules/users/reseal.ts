import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { resealWith, type SealedTable } from '../keys/index.js';
import { openProfile, sealProfile } from './profile-codec.js';
import { createUserRepo } from './repo.js';

/**
 * Profiles for `keys:reencrypt` (docs/privacy.md#one-envelope-per-row), keyed by their owner's user id
 * (a profile's record is bound to its owner); updated_at is left as it was.
 */
export function profileSealedTable(cipher: FieldCipher): SealedTable {
  return {
    table: 'user_profiles',
    countPending: (db) => createUserRepo(db).countUnsealedProfiles(),
    pendingAfter: (db, afterId, limit) => createUserRepo(db).unsealedProfilesAfter(afterId, limit),
    reseal: resealWith({
      lock: (tx, userIds) => createUserRepo(tx).lockUnsealedProfiles(userIds),
      idOf: (row) => row.userId,
      ownerOf: (row) => row.userId,
      store: async (tx, row, dek) => {
        const plain = openProfile(cipher, dek, row);
        await createUserRepo(tx).updateProfile(row.userId, sealProfile(cipher, dek, row.userId, plain));
      },
    }),
  };
}
