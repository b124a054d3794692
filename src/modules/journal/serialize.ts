import { type JournalPlain, openJournalRow, sealJournalColumns } from '../../db/sealed-records.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { EntryRow } from './repo.js';
import type { EntryResponse } from './types.js';

/** The sensitive fields, sealed together as one record per entry (docs/privacy.md#one-envelope-per-row). */
export const SEALED_FIELD_NAMES = [
  'activities',
  'challenges',
  'achievements',
  'notes',
  'barriers_faced',
] as const satisfies readonly (keyof JournalPlain)[];
export type SealedField = (typeof SEALED_FIELD_NAMES)[number];

/**
 * The columns a write stores: the five fields as one record under the owner's data key, bound to the
 * entry's id and owner, and the per-field columns of older rows cleared.
 */
export const sealEntry = (
  cipher: FieldCipher,
  dek: Buffer,
  entry: { id: number; userId: number },
  plain: JournalPlain,
) => sealJournalColumns(cipher, dek, entry, plain);

/** The plaintext of an entry's sensitive fields: one decryption (its record, or its older per-field columns). */
export const openEntry = (cipher: FieldCipher, dek: Buffer, row: EntryRow): JournalPlain =>
  openJournalRow(cipher, dek, row);

/** The given fields over the current ones. */
export function mergeEntry(current: JournalPlain, input: Partial<Record<SealedField, string>>): JournalPlain {
  const out = { ...current };
  for (const field of SEALED_FIELD_NAMES) {
    const value = input[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** The contract's entry object (docs/contract.md journal_entries), keys in order. */
export function entryResponse(
  row: EntryRow,
  plain: Record<SealedField, string>,
  fmt: (d: Date) => string,
): EntryResponse {
  return {
    id: row.id,
    date: row.date,
    mood: row.mood,
    energy_level: row.energyLevel,
    activities: plain.activities,
    challenges: plain.challenges,
    achievements: plain.achievements,
    notes: plain.notes,
    barriers_faced: plain.barriers_faced,
    barrier_count: row.barrierCount,
    created_at: fmt(row.createdAt),
    updated_at: fmt(row.updatedAt),
    user: row.userId,
  };
}
