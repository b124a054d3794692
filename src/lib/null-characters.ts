/**
 * U+0000 in submitted text. PostgreSQL can store no NUL in `text`, `varchar` or `jsonb`: a value
 * carrying one fails its query (a 500, or a false "unavailable" when the failing write is an audit
 * row). Django refuses it per field ("Null characters are not allowed."); here one check covers
 * every route's body and query string (plugins/input-screening.ts).
 */
export const NUL_MESSAGE = 'Null characters are not allowed.';

const hasNul = (text: string) => text.includes('\u0000');

/** Whether a value (any depth, keys included) holds a NUL. Iterative: a deep body cannot overflow the stack. */
export function containsNul(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (hasNul(v)) return true;
    } else if (Array.isArray(v)) {
      for (const item of v as unknown[]) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        if (hasNul(k)) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

/**
 * The fields of a parsed body or query string that hold a NUL: a top-level key names its field
 * whatever the depth of the NUL below it (DRF style); a NUL in a top-level key itself, or in a
 * body that is not an object, is a `non_field_errors` matter.
 */
export function fieldsWithNul(input: unknown): string[] {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return containsNul(input) ? ['non_field_errors'] : [];
  }
  const fields = new Set<string>();
  for (const [key, value] of Object.entries(input)) {
    if (hasNul(key)) fields.add('non_field_errors');
    else if (containsNul(value)) fields.add(key);
  }
  return [...fields];
}
