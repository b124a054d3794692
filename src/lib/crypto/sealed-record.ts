import { DecryptionError, fieldAad, type FieldCipher } from './field-cipher.js';
import { openedRecord, rememberOpened } from './opened-records.js';

/**
 * One envelope per row (docs/privacy.md#one-envelope-per-row). A row's sensitive fields are sealed
 * together: one AES-256-GCM ciphertext (`v2.`, FieldCipher.sealRecord) of a JSON object holding
 * every field (null when absent), in the row's `sealed` column, under the owner's data key, with the
 * associated data `<table>.<row key>.<owner id>`: a record copied to another row, table or owner
 * does not open. Reading a row costs one decryption whatever its number of fields.
 *
 * Rows written before records keep one `v1.` ciphertext per column (associated data
 * `<table>.<column>.<row key>`) and `sealed` NULL until they are written again or re-sealed by
 * `keys:reencrypt`; `read` opens either form, so the service serves throughout the migration.
 */

/** `text`: a string; `text?`: a string or null; `json`: a JSON object. */
export type FieldKind = 'text' | 'text?' | 'json';
type ValueOf<K extends FieldKind> = K extends 'text'
  ? string
  : K extends 'text?'
    ? string | null
    : Record<string, unknown>;
export type RecordShape = Record<string, FieldKind>;
export type RecordOf<S extends RecordShape> = { -readonly [F in keyof S]: ValueOf<S[F]> };

/** Which row a record belongs to and whose data key seals it. */
export interface RecordRef {
  /** The row's key: its id (a profile's: its owner's user id, one profile per person). */
  rowKey: number;
  /** The person the data is about; their data key seals it. */
  ownerId: number;
}

/** PRIVACY: binds a record to its table, row and owner (docs/privacy.md#one-envelope-per-row). */
export const recordAad = (table: string, ref: RecordRef) =>
  `${table}.${String(ref.rowKey)}.${String(ref.ownerId)}`;

/** A row as stored: the record (or null) and, for rows written before records, its per-field columns. */
export interface StoredRow<F extends string> {
  sealed: string | null;
  fields: Readonly<Record<F, string | null | undefined>>;
}

function checked(kind: FieldKind, value: unknown): unknown {
  if (kind === 'json') {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } else if (typeof value === 'string' || (kind === 'text?' && value === null)) {
    return value;
  }
  throw new DecryptionError();
}

/** The codec of one table's record: `shape` names its fields (JSON keys = the old column names). */
export function sealedRecord<S extends RecordShape>(table: string, shape: S) {
  type F = keyof S & string;
  const names = Object.keys(shape) as F[];

  /** Seals every field of the record (one nonce, one tag). */
  function seal(cipher: FieldCipher, dek: Buffer, ref: RecordRef, values: RecordOf<S>): string {
    const record: Record<string, unknown> = {};
    for (const name of names) record[name] = values[name];
    return cipher.sealRecord(dek, record, recordAad(table, ref));
  }

  /** Opens a record; DecryptionError when it is not this row's and owner's, or malformed. */
  function open(cipher: FieldCipher, dek: Buffer, ref: RecordRef, sealed: string): RecordOf<S> {
    const aad = recordAad(table, ref);
    const again = openedRecord(aad, sealed);
    if (again) return again as RecordOf<S>;
    const raw = cipher.openRecord(dek, sealed, aad);
    const out: Record<string, unknown> = {};
    for (const name of names) out[name] = checked(shape[name] as FieldKind, raw[name] ?? null);
    rememberOpened(aad, sealed, out);
    return out as RecordOf<S>;
  }

  /** The format before records: one `v1.` ciphertext per column (a JSON field as JSON text). */
  function openFields(
    cipher: FieldCipher,
    dek: Buffer,
    rowKey: number,
    columns: Readonly<Record<F, string | null | undefined>>,
  ): RecordOf<S> {
    const out: Record<string, unknown> = {};
    for (const name of names) {
      const kind = shape[name] as FieldKind;
      const value = columns[name];
      if (value === null || value === undefined) {
        out[name] = checked(kind, null);
        continue;
      }
      const plain = cipher.decrypt(dek, value, fieldAad(table, name, rowKey));
      let parsed: unknown = plain;
      if (kind === 'json') {
        try {
          parsed = JSON.parse(plain);
        } catch {
          throw new DecryptionError();
        }
      }
      out[name] = checked(kind, parsed);
    }
    return out as RecordOf<S>;
  }

  /** A stored row in either form: its record when it has one, else its per-field columns. */
  function read(cipher: FieldCipher, dek: Buffer, ref: RecordRef, row: StoredRow<F>): RecordOf<S> {
    return row.sealed === null
      ? openFields(cipher, dek, ref.rowKey, row.fields)
      : open(cipher, dek, ref, row.sealed);
  }

  return { table, fields: names, seal, open, openFields, read };
}
export type SealedRecord<S extends RecordShape> = ReturnType<typeof sealedRecord<S>>;
