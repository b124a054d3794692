import {
  openProfileRow,
  type ProfilePlain,
  profileRecord,
  sealProfileColumns,
} from '../../db/sealed-records.js';
import type { ProfileField, userProfiles } from '../../db/schema.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';

/**
 * The profile's 16 fields are one record under the owner's data key, bound to the owner
 * (docs/privacy.md#one-envelope-per-row): one decryption per profile read, one encryption per write.
 */
type ProfileRow = typeof userProfiles.$inferSelect;

export type ProfileValues = Partial<Record<ProfileField, string | null>>;

const EMPTY: ProfilePlain = Object.fromEntries(profileRecord.fields.map((f) => [f, null])) as ProfilePlain;

/** The given values over the current ones (undefined keeps a field, null clears it). */
export function mergeProfile(current: ProfilePlain, values: ProfileValues): ProfilePlain {
  const out = { ...current };
  for (const field of profileRecord.fields) {
    const value = values[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** The columns a write stores: the whole record sealed, the per-field columns of older rows cleared. */
export const sealProfile = (cipher: FieldCipher, dek: Buffer, userId: number, plain: ProfilePlain) =>
  sealProfileColumns(cipher, dek, userId, plain);

/** The profile's values; all null without the owner's key (an erased person). */
export function openProfile(
  cipher: FieldCipher,
  dek: Buffer | undefined,
  row: ProfileRow,
): Record<ProfileField, string | null> {
  if (dek === undefined) return { ...EMPTY };
  return openProfileRow(cipher, dek, row);
}

/** A profile with no value yet (a new account's). */
export const emptyProfile = (): ProfilePlain => ({ ...EMPTY });
