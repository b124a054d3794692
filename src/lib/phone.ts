import { parsePhoneNumberFromString } from 'libphonenumber-js';

// Same rules and messages as the Django serializer, so clients see identical errors.
export type PhoneResult = { ok: true; value: string } | { ok: false; message: string };

const FORMAT_MESSAGE = 'Invalid phone number format. Use format: +27XXXXXXXXX or 0XXXXXXXXX';
const SHAPE = /^(\+27|0)?[0-9]{9,10}$/;

export function normalisePhone(raw: string, maxLength: number): PhoneResult {
  // Length is checked on the raw input, like Django's CharField max_length runs before validation.
  if (raw.length > maxLength) {
    return { ok: false, message: `Ensure this field has no more than ${maxLength} characters.` };
  }
  const compact = raw.replace(/[ -]/g, '');
  if (!SHAPE.test(compact)) return { ok: false, message: FORMAT_MESSAGE };
  // The regex only checks shape; libphonenumber rejects numbers with no valid ZA numbering range.
  const parsed = parsePhoneNumberFromString(compact, 'ZA');
  if (!parsed?.isValid()) return { ok: false, message: FORMAT_MESSAGE };
  return { ok: true, value: parsed.number };
}
