import { describe, expect, it } from 'vitest';
import { createFieldCipher } from './field-cipher.js';
import { forgetOpenedRecords } from './opened-records.js';
import { sealedRecord } from './sealed-record.js';

const cipher = createFieldCipher({
  keys: new Map([['k1', Buffer.alloc(32, 7)]]),
  activeKeyId: 'k1',
  blindIndexKey: Buffer.alloc(32, 9),
});
const record = sealedRecord('journal_entries', { notes: 'text', extra: 'json' });

describe('opened records', () => {
  it('a record opened again costs no decryption; copies are independent', () => {
    forgetOpenedRecords();
    const dek = cipher.newDataKey();
    const ref = { rowKey: 1, ownerId: 2 };
    const sealed = record.seal(cipher, dek, ref, { notes: 'private', extra: { a: 1 } });
    let opens = 0;
    const counting = {
      ...cipher,
      openRecord: (...args: Parameters<typeof cipher.openRecord>) => (
        (opens += 1),
        cipher.openRecord(...args)
      ),
    };
    const first = record.open(counting, dek, ref, sealed);
    first.extra.a = 99;
    const second = record.open(counting, dek, ref, sealed);
    expect(opens).toBe(1);
    expect(second).toEqual({ notes: 'private', extra: { a: 1 } });
  });

  it('a record opened for one row does not open for another row or owner', () => {
    forgetOpenedRecords();
    const dek = cipher.newDataKey();
    const sealed = record.seal(cipher, dek, { rowKey: 1, ownerId: 2 }, { notes: 'x', extra: {} });
    record.open(cipher, dek, { rowKey: 1, ownerId: 2 }, sealed);
    expect(() => record.open(cipher, dek, { rowKey: 3, ownerId: 2 }, sealed)).toThrow();
    expect(() => record.open(cipher, dek, { rowKey: 1, ownerId: 4 }, sealed)).toThrow();
  });
});
