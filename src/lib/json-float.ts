/**
 * JSON text in which the named top-level number fields are written as floats, the way the
 * original (Python) wrote them: a whole value gets one decimal (`8.0`, `0.0`), others as usual
 * (`7.5`). `JSON.stringify` alone would write `8`. Every other value is serialized as
 * `JSON.stringify` does, keeping the object's key order.
 *
 * Send the result with `reply.type('application/json; charset=utf-8').send(text)`: Fastify sends a
 * string with a JSON content type as is.
 */
export function withFloat(obj: Record<string, unknown>, floatKeys: readonly string[]): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    const text =
      floatKeys.includes(key) && typeof value === 'number' ? pythonFloat(value) : JSON.stringify(value);
    parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** A finite number as Python's `json.dumps(float(x))` writes it (non-finite → null, as JSON.stringify). */
export function pythonFloat(n: number): string {
  if (!Number.isFinite(n)) return 'null';
  if (Object.is(n, -0)) return '-0.0';
  const text = JSON.stringify(n);
  // Exponent forms ("1e+21") are already float-looking; only plain whole numbers need ".0".
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}
