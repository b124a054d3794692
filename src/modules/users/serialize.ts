import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { openProfile } from './profile-codec.js';
import type { ProfileRow, UserWithProfile } from './repo.js';

/** The original's user object U and profile object P (docs/contract.md#users). */
export type Formatter = (d: Date) => string;

export function profileResponse(
  cipher: FieldCipher,
  dek: Buffer | undefined,
  row: ProfileRow,
  fmt: Formatter,
) {
  return { ...openProfile(cipher, dek, row), created_at: fmt(row.createdAt), updated_at: fmt(row.updatedAt) };
}
export type ProfileResponse = ReturnType<typeof profileResponse>;

export function userResponse(
  cipher: FieldCipher,
  dek: Buffer | undefined,
  user: UserWithProfile,
  fmt: Formatter,
) {
  return {
    id: user.id,
    email: user.email,
    first_name: user.firstName,
    last_name: user.lastName,
    role: user.role,
    has_completed_intake: user.hasCompletedIntake,
    created_at: fmt(user.createdAt),
    updated_at: fmt(user.updatedAt),
    profile: user.profile ? profileResponse(cipher, dek, user.profile, fmt) : null,
  };
}
export type UserResponse = ReturnType<typeof userResponse>;
