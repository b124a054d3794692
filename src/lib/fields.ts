import { z } from 'zod';
import { charCount, escapeText } from './escape.js';

/**
 * Zod builders for the contract's field rules (docs/contract.md#validation-messages), so every module
 * validates and words errors alike. Messages follow the original (DRF).
 */

const textMessage = (max: number, got: number) =>
  `Text exceeds maximum length of ${max} characters (got ${got})`;
const varcharMessage = (max: number) => `Ensure this field has no more than ${max} characters.`;

export interface EscTextOptions {
  /** `varchar` fields use DRF's max-length message; text fields the original's "Text exceeds …". */
  style?: 'text' | 'varchar';
  /** Blank (after trimming) refused with "This field may not be blank." */
  allowBlank?: boolean;
  /** Re-check the length after escaping, with this label ("Activities exceeds …"). */
  recheckLabel?: string;
}

/** Trimmed, length-checked, then HTML-escaped on write ("esc" fields, docs/contract.md#requests). */
export function escText(max: number, opts: EscTextOptions = {}) {
  const { style = 'text', allowBlank = true, recheckLabel } = opts;
  return z.string().transform((raw, ctx) => {
    const value = raw.trim();
    if (!allowBlank && value === '') {
      ctx.addIssue({ code: 'custom', message: 'This field may not be blank.' });
      return z.NEVER;
    }
    const n = charCount(value);
    if (n > max) {
      ctx.addIssue({
        code: 'custom',
        message: style === 'varchar' ? varcharMessage(max) : textMessage(max, n),
      });
      return z.NEVER;
    }
    const escaped = escapeText(value);
    if (recheckLabel && charCount(escaped) > max) {
      ctx.addIssue({
        code: 'custom',
        message: `${recheckLabel} exceeds maximum length of ${max} characters (got ${charCount(escaped)})`,
      });
      return z.NEVER;
    }
    return escaped;
  });
}

/** One of the given values; `"x" is not a valid choice.` otherwise. */
export function choice<const T extends readonly [string, ...string[]]>(values: T) {
  const isChoice = (v: unknown): v is T[number] => typeof v === 'string' && values.includes(v);
  return z.unknown().transform((v, ctx) => {
    if (missing(v, ctx)) return z.NEVER;
    if (isChoice(v)) return v;
    ctx.addIssue({ code: 'custom', message: `"${displayValue(v)}" is not a valid choice.` });
    return z.NEVER;
  });
}

/** An integer choice in [min, max]; numeric strings accepted ("7"), as the original. */
export function intChoice(min: number, max: number) {
  return z.unknown().transform((v, ctx) => {
    if (missing(v, ctx)) return z.NEVER;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    ctx.addIssue({ code: 'custom', message: `"${displayValue(v)}" is not a valid choice.` });
    return z.NEVER;
  });
}

/** An integer (numeric strings accepted); messages given by the caller's range check. */
export function integer() {
  return z.unknown().transform((v, ctx) => {
    if (missing(v, ctx)) return z.NEVER;
    const n =
      typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim()) ? Number(v) : NaN;
    if (Number.isSafeInteger(n)) return n;
    ctx.addIssue({ code: 'custom', message: 'A valid integer is required.' });
    return z.NEVER;
  });
}

const TRUE = new Set([true, 'true', 'True', 'TRUE', '1', 1, 'yes', 'on']);
const FALSE = new Set([false, 'false', 'False', 'FALSE', '0', 0, 'no', 'off']);
/** A boolean; DRF's accepted spellings ("true", "1", …). */
export function bool() {
  return z.unknown().transform((v, ctx) => {
    if (missing(v, ctx)) return z.NEVER;
    if (TRUE.has(v as never)) return true;
    if (FALSE.has(v as never)) return false;
    ctx.addIssue({ code: 'custom', message: 'Must be a valid boolean.' });
    return z.NEVER;
  });
}

const DATE_MESSAGE = 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.';
/** A real calendar date `YYYY-MM-DD`. */
export function isoDate() {
  return z.unknown().transform((v, ctx) => {
    if (missing(v, ctx)) return z.NEVER;
    if (typeof v === 'string' && isRealDate(v.trim())) return v.trim();
    ctx.addIssue({ code: 'custom', message: DATE_MESSAGE });
    return z.NEVER;
  });
}

export function isRealDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && dt.getUTCFullYear() === y && dt.getUTCMonth() === mo - 1 && dt.getUTCDate() === d;
}

/** DRF's messages for an absent or null value, checked before the field's own rule. */
function missing(v: unknown, ctx: z.RefinementCtx): boolean {
  if (v === undefined) ctx.addIssue({ code: 'custom', message: 'This field is required.' });
  else if (v === null) ctx.addIssue({ code: 'custom', message: 'This field may not be null.' });
  else return false;
  return true;
}

function displayValue(v: unknown): string {
  if (typeof v === 'string') return v.length > 50 ? `${v.slice(0, 50)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null) return 'None';
  return Array.isArray(v) ? 'list' : typeof v;
}
