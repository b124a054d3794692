import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { resealWith, type SealedTable } from '../keys/index.js';
import { createJournalRepo } from './repo.js';
import { openEntry, sealEntry } from './serialize.js';

/** Journal entries for `keys:reencrypt` (docs/privacy.md#one-envelope-per-row); updated_at is left as it was. */
export function journalSealedTable(cipher: FieldCipher): SealedTable {
  return {
    table: 'journal_entries',
    countPending: (db) => createJournalRepo(db).countUnsealed(),
    pendingAfter: (db, afterId, limit) => createJournalRepo(db).unsealedAfter(afterId, limit),
    reseal: resealWith({
      lock: (tx, ids) => createJournalRepo(tx).lockUnsealed(ids),
      idOf: (row) => row.id,
      ownerOf: (row) => row.userId,
      store: async (tx, row, dek) => {
        await createJournalRepo(tx).update(row.id, sealEntry(cipher, dek, row, openEntry(cipher, dek, row)));
      },
    }),
  };
}
