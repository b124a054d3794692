import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFieldCipher, DecryptionError, fieldAad } from './field-cipher.js';
import { sealedRecord } from './sealed-record.js';

/** One envelope per row (docs/privacy.md#one-envelope-per-row): the record codec on its own. */
const cipher = createFieldCipher({
  keys: new Map([['k1', randomBytes(32)]]),
  activeKeyId: 'k1',
  blindIndexKey: randomBytes(32),
});
const dek = randomBytes(32);
const record = sealedRecord('journal_entries', { activities: 'text', notes: 'text?', answers: 'json' });
const values = { activities: 'walked', notes: null, answers: { a: '1' } };
const ref = { rowKey: 7, ownerId: 3 };

describe('sealed records', () => {
  it('seals every field in one v2 ciphertext that opens to the same values, with a fresh nonce each time', () => {
    const sealed = record.seal(cipher, dek, ref, values);
    expect(sealed).toMatch(/^v2\.[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain('walked');
    expect(record.open(cipher, dek, ref, sealed)).toEqual(values);
    expect(record.seal(cipher, dek, ref, values)).not.toBe(sealed);
  });

  it('is bound to table, row and owner: the same key opens it only where it was sealed', () => {
    const sealed = record.seal(cipher, dek, ref, values);
    const elsewhere = [
      { rowKey: 8, ownerId: 3 },
      { rowKey: 7, ownerId: 4 },
      { rowKey: 3, ownerId: 7 },
    ];
    for (const other of elsewhere) {
      expect(() => record.open(cipher, dek, other, sealed)).toThrow(DecryptionError);
    }
    const otherTable = sealedRecord('admin_notes', { activities: 'text', notes: 'text?', answers: 'json' });
    expect(() => otherTable.open(cipher, dek, ref, sealed)).toThrow(DecryptionError);
    expect(() => record.open(cipher, randomBytes(32), ref, sealed)).toThrow(DecryptionError);
  });

  it('refuses a single-value (v1) ciphertext as a record, and a record whose fields have the wrong shape', () => {
    const v1 = cipher.encrypt(dek, JSON.stringify(values), `journal_entries.7.3`);
    expect(() => record.open(cipher, dek, ref, v1)).toThrow(DecryptionError);
    const wrongShape = cipher.sealRecord(
      dek,
      { activities: 5, notes: null, answers: {} },
      'journal_entries.7.3',
    );
    expect(() => record.open(cipher, dek, ref, wrongShape)).toThrow(DecryptionError);
  });

  it('reads rows of the per-field format (v1 per column, bound to table.column.row) and of the record format', () => {
    const columns = {
      activities: cipher.encrypt(dek, 'walked', fieldAad('journal_entries', 'activities', 7)),
      notes: null,
      answers: cipher.encrypt(dek, JSON.stringify({ a: '1' }), fieldAad('journal_entries', 'answers', 7)),
    };
    expect(record.read(cipher, dek, ref, { sealed: null, fields: columns })).toEqual(values);
    const sealed = record.seal(cipher, dek, ref, values);
    expect(record.read(cipher, dek, ref, { sealed, fields: columns })).toEqual(values);
    // A per-field value copied from another row is refused as before.
    const moved = {
      ...columns,
      activities: cipher.encrypt(dek, 'x', fieldAad('journal_entries', 'activities', 8)),
    };
    expect(() => record.read(cipher, dek, ref, { sealed: null, fields: moved })).toThrow(DecryptionError);
  });
});
