import { z } from 'zod';

/**
 * Zod messages in the words of the original's serializers (DRF), so field errors read the same
 * to the existing front end (docs/contract.md preamble). Installed once, process-wide.
 */
const PY_TYPE: Record<string, string> = {
  array: 'list',
  string: 'str',
  number: 'int',
  boolean: 'bool',
  object: 'dict',
  null: 'NoneType',
};

function received(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'array';
  return typeof input;
}

export function drfMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'This field is required.';
      if (issue.input === null) return 'This field may not be null.';
      if (issue.expected === 'object' && (issue.path?.length ?? 0) === 0) {
        return `Invalid data. Expected a dictionary, but got ${PY_TYPE[received(issue.input)] ?? 'str'}.`;
      }
      if (issue.expected === 'string') return 'Not a valid string.';
      if (issue.expected === 'int' || issue.expected === 'number') return 'A valid integer is required.';
      if (issue.expected === 'boolean') return 'Must be a valid boolean.';
      if (issue.expected === 'array')
        return `Expected a list of items but got type "${PY_TYPE[received(issue.input)] ?? 'str'}".`;
      if (issue.expected === 'object') return 'Invalid data. Expected a dictionary.';
      return 'Invalid value.';
    }
    case 'too_big':
      if (issue.origin === 'string')
        return `Ensure this field has no more than ${String(issue.maximum)} characters.`;
      if (issue.origin === 'array')
        return `Ensure this field has no more than ${String(issue.maximum)} elements.`;
      return `Ensure this value is less than or equal to ${String(issue.maximum)}.`;
    case 'too_small':
      if (issue.origin === 'string') {
        return issue.minimum === 1
          ? 'This field may not be blank.'
          : `Ensure this field has at least ${String(issue.minimum)} characters.`;
      }
      return `Ensure this value is greater than or equal to ${String(issue.minimum)}.`;
    case 'invalid_value':
      return `"${String(issue.input)}" is not a valid choice.`;
    case 'unrecognized_keys':
      return 'Unexpected field.';
    default:
      return undefined;
  }
}

let installed = false;
export function installValidationMessages(): void {
  if (installed) return;
  installed = true;
  z.config({ customError: (issue) => drfMessage(issue) });
}

/** An object body whose keys the service checks itself (to keep the original's order of checks). */
export const looseBody = <T extends z.ZodRawShape>(shape: T) => z.looseObject(shape).optional();

/** Path id: a positive integer (anything else is an unknown path, docs/contract.md#routing). */
export const ID_PARAM = ':id(^\\d{1,15}$)';
export const idParams = z.object({ id: z.coerce.number().int().positive() });
