/**
 * Records this process opened recently, keyed by their associated data and ciphertext
 * (docs/privacy.md#one-envelope-per-row): reading the same page again costs no decryption. A
 * ciphertext is never written twice (every seal has a fresh nonce) and its associated data names
 * its table, row and owner, so an entry can only ever answer for the very value it was opened
 * from: there is nothing to invalidate. PRIVACY: plaintext stays in this process (never in the
 * shared store) and for at most a minute, like the user-object cache; the map is bounded.
 */
const TTL_MS = 60_000;
const MAX_ENTRIES = 10_000;

const opened = new Map<string, { value: Readonly<Record<string, unknown>>; until: number }>();
const keyOf = (aad: string, sealed: string) => `${aad}\n${sealed}`;

/** A copy no caller can share: nested JSON fields (intake answers) are copied too. */
function copyOf(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record))
    copy[k] = typeof v === 'object' && v !== null ? structuredClone(v) : v;
  return copy;
}

export function openedRecord(aad: string, sealed: string): Record<string, unknown> | undefined {
  const key = keyOf(aad, sealed);
  const hit = opened.get(key);
  if (!hit) return undefined;
  if (hit.until <= Date.now()) {
    opened.delete(key);
    return undefined;
  }
  // Callers may change what they get.
  return copyOf(hit.value);
}

export function rememberOpened(aad: string, sealed: string, value: Record<string, unknown>): void {
  if (opened.size >= MAX_ENTRIES) {
    const oldest = opened.keys().next();
    if (!oldest.done) opened.delete(oldest.value);
  }
  opened.set(keyOf(aad, sealed), { value: copyOf(value), until: Date.now() + TTL_MS });
}

/** Drops every opened record (an erasure on this instance; tests). */
export function forgetOpenedRecords(): void {
  opened.clear();
}
