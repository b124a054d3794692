import { ApiError } from '../../../lib/errors.js';
import type { Role } from '../../../lib/actor.js';

/**
 * Staff password expiry (docs/auth.md#password-expiry): the original's planned 90-day expiry of admin
 * passwords, `PASSWORD_MAX_AGE_DAYS` (0 = off). A staff account (admin, superuser) whose password was last
 * set more than that many days ago cannot sign in until it is set again through the reset link;
 * candidates' passwords never expire.
 */
export function passwordExpired(
  user: { role: Role; passwordLastChanged: Date },
  maxAgeDays: number,
  now: Date,
): boolean {
  if (maxAgeDays <= 0 || user.role === 'candidate') return false;
  return now.getTime() - user.passwordLastChanged.getTime() > maxAgeDays * 86_400_000;
}

export function passwordExpiredError(maxAgeDays: number): ApiError {
  const detail = `Your password is more than ${String(maxAgeDays)} days old and has expired. Set a new one with the password reset link ("Forgot password").`;
  return new ApiError(403, 'password_expired', detail, undefined, {
    password_reset_required: true,
    password_max_age_days: maxAgeDays,
  });
}
