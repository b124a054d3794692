// Mirrors Django's escape() on stored free text. Not idempotent on purpose: "&amp;" becomes "&amp;amp;".
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#x27;',
};

export function escapeText(s: string): string {
  // One regex pass, so "&" produced by an earlier replacement is never re-escaped within the call.
  return s.trim().replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Length in code points, as the original (Python `len`) counts it. */
export function charCount(s: string): number {
  return Array.from(s).length;
}
