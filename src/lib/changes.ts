/**
 * What a committed write changed, told to the caches before the write answers
 * (docs/operations.md#caches). Services call it after their transaction commits; the composition
 * root turns each change into the cache keys it touches.
 *  - `account`: the user object or profile (name, role, status, password date, 2FA, erasure);
 *  - `journal`, `notes`, `intake`: that person's entries, notes about them, their intake.
 */
export interface DataChange {
  kind: 'account' | 'journal' | 'notes' | 'intake';
  userId: number;
}
export type OnDataChange = (changes: readonly DataChange[]) => Promise<void>;

/** For services built without caches (tools, tests of one service). */
export const noCaches: OnDataChange = async () => undefined;
