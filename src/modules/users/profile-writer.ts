import type { Tx } from '../../db/client.js';
import { PROFILE_FIELDS, type ProfileField, userProfiles } from '../../db/schema.js';
import { validationError } from '../../lib/errors.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { DataKeyStore } from '../keys/index.js';
import { mergeProfile, openProfile, sealProfile, type ProfileValues } from './profile-codec.js';
import { createUserRepo, type ProfileRow } from './repo.js';

/**
 * The one place that writes profile data (profile PUT/PATCH, intake): merges the given values into
 * the profile's record and seals it again under the owner's data key (docs/privacy.md#one-envelope-per-row),
 * maintains the ID-number blind index and its uniqueness, and creates the profile when missing.
 * Returns the row and the names of the fields written.
 *
 * PRIVACY: `obtain` locks the owner's user row first (erasure is final); then the profile row is
 * locked before it is read, so concurrent partial writes (and `keys:reencrypt`) never lose a field.
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
  const repo = createUserRepo(tx);
  let current = await repo.findProfile(userId, { forUpdate: true });
  if (!current) {
    await repo.insertEmptyProfile(userId, at);
    current = await repo.findProfile(userId, { forUpdate: true });
    if (!current) throw new Error('profile vanished during creation');
  }
  const plain = mergeProfile(openProfile(deps.cipher, dek, current), values);
  const update: Partial<typeof userProfiles.$inferInsert> = {
    ...sealProfile(deps.cipher, dek, userId, plain),
    updatedAt: at,
  };
  if (values.id_number !== undefined) {
    const id = values.id_number;
    const index = id === null || id === '' ? null : deps.cipher.blindIndex(id);
    if (index && (await repo.idNumberTaken(index, userId)))
      throw validationError({ id_number: ['A profile with this ID number already exists.'] });
    update.idNumberIndex = index;
  }
  const row = await repo.updateProfile(userId, update);
  return { row, fields };
}
