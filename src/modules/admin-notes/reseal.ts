import { openNoteRow, sealNoteColumns } from '../../db/sealed-records.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { resealWith, type SealedTable } from '../keys/index.js';
import { createNoteRepo } from './repo.js';

/** Admin notes for `keys:reencrypt` (docs/privacy.md#one-envelope-per-row): sealed as their candidate's. */
export function noteSealedTable(cipher: FieldCipher): SealedTable {
  return {
    table: 'admin_notes',
    countPending: (db) => createNoteRepo(db).countUnsealed(),
    pendingAfter: (db, afterId, limit) => createNoteRepo(db).unsealedAfter(afterId, limit),
    reseal: resealWith({
      lock: (tx, ids) => createNoteRepo(tx).lockUnsealed(ids),
      idOf: (row) => row.id,
      ownerOf: (row) => row.candidateId,
      store: async (tx, row, dek) => {
        await createNoteRepo(tx).update(
          row.id,
          sealNoteColumns(cipher, dek, row, openNoteRow(cipher, dek, row)),
        );
      },
    }),
  };
}
