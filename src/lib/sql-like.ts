/** A LIKE pattern matching `text` anywhere, with `%`, `_` and `\` in it taken literally. */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
}
