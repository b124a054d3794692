import type { Tx } from '../../db/client.js';
import { PROFILE_FIELDS, type ProfileField, userProfiles } from '../../db/schema.js';
import { validationError } from '../../lib/errors.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { DataKeyStore } from '../keys/index.js';
import { sealProfile, type ProfileValues } from './profile-codec.js';
import { createUserRepo, type ProfileRow } from './repo.js';

/**
 * The one place that writes profile data (profile PUT/PATCH, intake): seals each given value
 * under the owner's data key, maintains the ID-number blind index and its uniqueness, and creates
 * the profile when missing. Returns the row and the names of the fields written.
 */
export async function writeProfile(
  tx: Tx,
  deps: { cipher: FieldCipher; dataKeys: DataKeyStore; now: () => Date },
  userId: number,
  values: ProfileValues,
): Promise<{ row: ProfileRow; fields: ProfileField[] }> {
  const fields = PROFILE_FIELDS.filter((f) => values[f] !== undefined);
  const at = deps.now();
  const dek = await deps.dataKeys.obtain(tx, userId);
  const sealed = sealProfile(deps.cipher, dek, userId, values);
  const update: Partial<typeof userProfiles.$inferInsert> = { ...sealed, updatedAt: at };
  const repo = createUserRepo(tx);
  if (values.id_number !== undefined) {
    const id = values.id_number;
    const index = id === null || id === '' ? null : deps.cipher.blindIndex(id);
    if (index && (await repo.idNumberTaken(index, userId)))
      throw validationError({ id_number: ['A profile with this ID number already exists.'] });
    update.idNumberIndex = index;
  }
  const row = await repo.upsertProfile(userId, at, update);
  return { row, fields };
}
