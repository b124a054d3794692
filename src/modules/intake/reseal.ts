import { openSubmissionRow, sealSubmissionColumns } from '../../db/sealed-records.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { resealWith, type SealedTable } from '../keys/index.js';
import { createIntakeRepo } from './repo.js';

/** Intake submissions for `keys:reencrypt` (docs/privacy.md#one-envelope-per-row). */
export function submissionSealedTable(cipher: FieldCipher): SealedTable {
  return {
    table: 'intake_submissions',
    countPending: (db) => createIntakeRepo(db).countUnsealed(),
    pendingAfter: (db, afterId, limit) => createIntakeRepo(db).unsealedAfter(afterId, limit),
    reseal: resealWith({
      lock: (tx, ids) => createIntakeRepo(tx).lockUnsealed(ids),
      idOf: (row) => row.id,
      ownerOf: (row) => row.userId,
      store: async (tx, row, dek) => {
        await createIntakeRepo(tx).updateSubmission(
          row.id,
          sealSubmissionColumns(cipher, dek, row, openSubmissionRow(cipher, dek, row)),
        );
      },
    }),
  };
}
