/**
 * Password policy of the Django service this API replaces: Django's four default validators
 * (similarity, length, common, numeric) followed by the service's own complexity validator.
 * Messages and order match Django so clients see the same errors after the migration.
 */
import { dictionary } from '@zxcvbn-ts/language-common';

export interface PolicyUserAttributes {
  email?: string | null;
  firstName?: string | null;
  lastName?: string | null;
}

const MIN_LENGTH = 12;
const MAX_SIMILARITY = 0.7;

// Python's `re` is Unicode-aware for str patterns: \w is any letter or number plus `_`.
// JS's /\W/ is ASCII-only and would split "zoë" into "zo" + "", so the class is spelled out.
const PY_NON_WORD_RUN = /[^\p{L}\p{N}_]+/u;
const PY_SPECIAL = /[^\p{L}\p{N}_\s]/u; // Python's [^\w\s]
const PY_DIGIT = /\p{Nd}/u; // Python's \d
const PY_ALL_DIGITS = /^\p{Nd}+$/u; // str.isdigit(), minus rare non-decimal digits such as "²"

/** Python's len(): code points, not UTF-16 units, so an emoji counts once. */
const pyLen = (s: string): number => Array.from(s).length;

/** Python difflib's SequenceMatcher(a=a, b=b).quick_ratio(): 2·|multiset(a) ∩ multiset(b)| / (|a| + |b|). */
export function quickRatio(a: string, b: string): number {
  const available = new Map<string, number>();
  let lengthB = 0;
  for (const ch of b) {
    available.set(ch, (available.get(ch) ?? 0) + 1);
    lengthB++;
  }
  let matches = 0;
  let lengthA = 0;
  for (const ch of a) {
    lengthA++;
    const left = available.get(ch) ?? 0;
    if (left > 0) {
      matches++;
      available.set(ch, left - 1);
    }
  }
  const total = lengthA + lengthB;
  return total === 0 ? 1 : (2 * matches) / total;
}

const ATTRIBUTES = [
  ['email', 'email'],
  ['firstName', 'first name'],
  ['lastName', 'last name'],
] as const;

/**
 * Django's UserAttributeSimilarityValidator. Django 4.2 also skips parts a tenth or less of the
 * password's length; at 0.7 that can never reach the threshold (quick_ratio <= 2/11), so it is omitted.
 */
function similarityMessages(password: string, user: PolicyUserAttributes): string[] {
  const lowered = password.toLowerCase();
  const messages: string[] = [];
  for (const [key, label] of ATTRIBUTES) {
    const value = user[key];
    if (!value) continue;
    const valueLower = value.toLowerCase();
    const parts = [...valueLower.split(PY_NON_WORD_RUN), valueLower];
    if (parts.some((part) => quickRatio(lowered, part) >= MAX_SIMILARITY)) {
      messages.push(`The password is too similar to the ${label}.`);
    }
  }
  return messages;
}

let commonPasswords: Set<string> | undefined;

/** Built on first use: ~49k entries is too much work to pay for on import when no password is checked. */
function commonPasswordSet(): Set<string> {
  commonPasswords ??= new Set(dictionary.passwords.map((entry) => entry.toLowerCase()));
  return commonPasswords;
}

/** Django's CommonPasswordValidator compares password.lower().strip() with its list. */
export function isCommonPassword(password: string): boolean {
  return commonPasswordSet().has(password.trim().toLowerCase());
}

/** The service's complexity validator reports only its first failing rule. */
function complexityMessage(password: string, user: PolicyUserAttributes | undefined): string | undefined {
  if (pyLen(password) < MIN_LENGTH) return `Password must be at least ${MIN_LENGTH} characters long.`;
  if (!/\p{Lu}/u.test(password)) return 'Password must contain at least one uppercase letter.';
  if (!/\p{Ll}/u.test(password)) return 'Password must contain at least one lowercase letter.';
  if (!PY_DIGIT.test(password)) return 'Password must contain at least one number.';
  if (!PY_SPECIAL.test(password)) {
    return 'Password must contain at least one special character (!@#$%^&*()_+-=[]{}|;:,.<>?).';
  }
  if (!user) return undefined;

  const lowered = password.toLowerCase();
  const personal: [string | null | undefined, string][] = [
    [user.email?.split('@')[0], 'Password cannot contain your email username.'],
    [user.firstName, 'Password cannot contain your first name.'],
    [user.lastName, 'Password cannot contain your last name.'],
  ];
  for (const [value, message] of personal) {
    // Shorter values ("Al", "Li") would reject far too many unrelated passwords.
    if (value && pyLen(value) >= 3 && lowered.includes(value.toLowerCase())) return message;
  }
  return undefined;
}

/** Returns every failing message, in the order below; [] = acceptable. */
export function checkPasswordPolicy(password: string, user?: PolicyUserAttributes): string[] {
  const messages = user ? similarityMessages(password, user) : [];
  if (pyLen(password) < MIN_LENGTH) {
    messages.push(`This password is too short. It must contain at least ${MIN_LENGTH} characters.`);
  }
  if (isCommonPassword(password)) messages.push('This password is too common.');
  if (PY_ALL_DIGITS.test(password)) messages.push('This password is entirely numeric.');
  const complexity = complexityMessage(password, user);
  if (complexity) messages.push(complexity);
  return messages;
}
