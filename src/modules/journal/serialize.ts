import { fieldAad, type FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { EntryInsert, EntryRow } from './repo.js';
import type { EntryResponse } from './types.js';

/** The encrypted (E) columns: API name → row property. */
export const SEALED_FIELDS = {
  activities: 'activities',
  challenges: 'challenges',
  achievements: 'achievements',
  notes: 'notes',
  barriers_faced: 'barriersFaced',
} as const satisfies Record<string, keyof EntryRow>;
export type SealedField = keyof typeof SEALED_FIELDS;
export const SEALED_FIELD_NAMES = Object.keys(SEALED_FIELDS) as SealedField[];

// PRIVACY: each value is bound to (table, column, row id), so a ciphertext copied elsewhere fails.
const aad = (field: SealedField, rowId: number) => fieldAad('journal_entries', field, rowId);

/** Seals the given plaintext values under the owner's data key (absent keys are skipped). */
export function sealEntry(
  cipher: FieldCipher,
  dek: Buffer,
  rowId: number,
  values: Partial<Record<SealedField, string>>,
): Partial<Pick<EntryInsert, (typeof SEALED_FIELDS)[SealedField]>> {
  const out: Partial<Pick<EntryInsert, (typeof SEALED_FIELDS)[SealedField]>> = {};
  for (const field of SEALED_FIELD_NAMES) {
    const value = values[field];
    if (value !== undefined) out[SEALED_FIELDS[field]] = cipher.encrypt(dek, value, aad(field, rowId));
  }
  return out;
}

/** The plaintext of the sealed columns of a row. */
export function openEntry(cipher: FieldCipher, dek: Buffer, row: EntryRow): Record<SealedField, string> {
  const out = {} as Record<SealedField, string>;
  for (const field of SEALED_FIELD_NAMES) {
    out[field] = cipher.decrypt(dek, row[SEALED_FIELDS[field]], aad(field, row.id));
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
