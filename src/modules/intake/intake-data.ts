import { PROFILE_FIELDS } from '../../db/schema.js';
import { badRequest, validationError, type FieldErrors } from '../../lib/errors.js';
import { ProfileInput, type ProfileValues } from '../users/index.js';

/**
 * Checks of `intake_data` in the original's order and words (docs/contract.md#intake): nothing given,
 * then not an object, then the profile field rules.
 */
const INVALID = 'Invalid intake data';

/** Python's truthiness, which the original tested (`if not intake_data`): {}, [], "", 0, false, null. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return typeof v === 'object' && Object.keys(v).length === 0;
}

/** The Python type name DRF puts in "Expected a dictionary, but got X.". */
function pythonType(v: unknown): string {
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  return 'str';
}

/** The raw `intake_data` as an object, or the 400 the original gave. */
export function intakeObject(raw: unknown): Record<string, unknown> {
  if (isEmpty(raw)) throw badRequest('No intake data provided');
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw validationError(
      { non_field_errors: [`Invalid data. Expected a dictionary, but got ${pythonType(raw)}.`] },
      INVALID,
    );
  }
  return raw as Record<string, unknown>;
}

/**
 * The values to write: validated, trimmed/escaped/normalised, unknown keys dropped, nulls skipped
 * ("" is kept and stored). Keys follow the profile's field order.
 */
export function intakeValues(data: Record<string, unknown>): ProfileValues {
  const parsed = ProfileInput.safeParse(data);
  if (!parsed.success) {
    const errors: FieldErrors = {};
    for (const issue of parsed.error.issues) {
      const field = typeof issue.path[0] === 'string' ? issue.path[0] : 'non_field_errors';
      const list = (errors[field] ??= []);
      if (!list.includes(issue.message)) list.push(issue.message);
    }
    throw validationError(errors, INVALID);
  }
  const values: ProfileValues = {};
  for (const field of PROFILE_FIELDS) {
    const value = parsed.data[field];
    if (value !== undefined && value !== null) values[field] = value;
  }
  return values;
}

export const withIntakeDetail = (errors: FieldErrors) => validationError(errors, INVALID);
