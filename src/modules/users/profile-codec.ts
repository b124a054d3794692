import { PROFILE_FIELDS, type ProfileField, userProfiles } from '../../db/schema.js';
import { fieldAad, type FieldCipher } from '../../lib/crypto/field-cipher.js';

/** Maps API field names (snake_case) to the profile table's columns and back, sealing each value. */
type ProfileRow = typeof userProfiles.$inferSelect;
type ProfileColumn = Exclude<keyof ProfileRow, 'id' | 'userId' | 'idNumberIndex' | 'createdAt' | 'updatedAt'>;

const camel = (s: string) => s.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
export const PROFILE_COLUMN: Record<ProfileField, ProfileColumn> = Object.fromEntries(
  PROFILE_FIELDS.map((f) => [f, camel(f) as ProfileColumn]),
) as Record<ProfileField, ProfileColumn>;

// PRIVACY: the ciphertext is bound to the profile's owner (the row's natural key: one profile per user).
const aad = (field: ProfileField, userId: number) => fieldAad('user_profiles', field, userId);

export type ProfileValues = Partial<Record<ProfileField, string | null>>;

export function sealProfile(cipher: FieldCipher, dek: Buffer, userId: number, values: ProfileValues) {
  const out: Partial<Record<ProfileColumn, string | null>> = {};
  for (const field of PROFILE_FIELDS) {
    const value = values[field];
    if (value === undefined) continue;
    out[PROFILE_COLUMN[field]] = value === null ? null : cipher.encrypt(dek, value, aad(field, userId));
  }
  return out;
}

export function openProfile(
  cipher: FieldCipher,
  dek: Buffer | undefined,
  row: ProfileRow,
): Record<ProfileField, string | null> {
  const out = {} as Record<ProfileField, string | null>;
  for (const field of PROFILE_FIELDS) {
    const sealed = row[PROFILE_COLUMN[field]];
    if (sealed === null || dek === undefined) out[field] = null;
    else out[field] = cipher.decrypt(dek, sealed, aad(field, row.userId));
  }
  return out;
}
