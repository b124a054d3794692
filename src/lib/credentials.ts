import { charCount } from './escape.js';
import { checkEmail } from './email.js';
import type { FieldErrors } from './errors.js';
import { checkPasswordPolicy, type PolicyUserAttributes } from './password/policy.js';

/**
 * Input checks shared by register, login and account creation (docs/auth.md#registration,
 * docs/auth.md#password-policy, docs/contract.md#users): their messages are the original's.
 */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 128;
export const MAX_NAME = 150;

export const asText = (v: unknown): string => (typeof v === 'string' ? v : '');

/** `{email: [...], password: [...]}` with both keys, as the original answers a missing field. */
export function missingCredentials(email: string, password: string): FieldErrors | null {
  if (email.trim() !== '' && password !== '') return null;
  return {
    email: email.trim() === '' ? ['This field is required.'] : [],
    password: password === '' ? ['This field is required.'] : [],
  };
}

export function emailErrors(
  email: string,
  allowedDomains: string[],
): { value: string } | { errors: FieldErrors } {
  const check = checkEmail(email, allowedDomains);
  return check.ok ? { value: check.value } : { errors: { email: [check.message] } };
}

export function passwordLengthError(password: string): string | null {
  const n = charCount(password);
  if (n < MIN_PASSWORD) return `Password must be at least ${MIN_PASSWORD} characters (got ${n})`;
  if (n > MAX_PASSWORD) return `Password exceeds maximum length of ${MAX_PASSWORD} characters (got ${n})`;
  return null;
}

export function policyErrors(password: string, user?: PolicyUserAttributes): string[] {
  return checkPasswordPolicy(password, user);
}

export function nameError(name: string): string | null {
  const n = charCount(name);
  return n > MAX_NAME ? `Text exceeds maximum length of ${MAX_NAME} characters (got ${n})` : null;
}
