import type { Db, DbOrTx, Tx } from '../../db/client.js';
import { DecryptionError } from '../../lib/crypto/field-cipher.js';
import { recordAudit } from '../audit/index.js';
import { type DataKeyStore, lockSubjectsSkipLocked } from './data-keys.js';

/**
 * `keys:reencrypt` (docs/operations.md#re-sealing-records, docs/privacy.md#one-envelope-per-row):
 * rows written before records hold one ciphertext per field; this re-seals each as one record
 * under its owner's data key, online, in batches, while the service serves.
 *
 * - Each module that owns such a table gives a `SealedTable` (the root composes them): this file
 *   knows no table.
 * - A batch is one transaction: the owners' user rows are locked `FOR KEY SHARE SKIP LOCKED` first
 *   (the order writers and erasure lock in), then the rows `FOR UPDATE SKIP LOCKED`: the run never
 *   waits on a live writer and two runs can work side by side. A writer that comes later waits for
 *   the batch (milliseconds) and then merges into the record.
 * - Only rows with `sealed IS NULL` are selected, so a killed run resumes where it stopped and a
 *   second run changes nothing. Rows of an erased person or without a data key are skipped, rows
 *   that do not decrypt are reported by id; both keep their per-field columns and never stop the run.
 * - Each batch writes one audit entry in its transaction (actor system, table, count, id range).
 */

/** A row still in the per-field format (by its key: a profile's is its owner's id), and whose data it is. */
export interface PendingRow {
  id: number;
  ownerId: number;
}

export interface ResealResult {
  sealed: number[];
  unreadable: number[];
}

/** One table with a sealed record, as its owning module re-seals it. */
export interface SealedTable {
  table: string;
  /** Rows still in the per-field format. */
  countPending(db: DbOrTx): Promise<number>;
  /** Up to `limit` such rows with ids above `afterId`, in id order (no lock). */
  pendingAfter(db: DbOrTx, afterId: number, limit: number): Promise<PendingRow[]>;
  /** In the batch's transaction, with the owners locked: re-seals those still pending (see `resealWith`). */
  reseal(tx: Tx, rows: readonly PendingRow[], keys: ReadonlyMap<number, Buffer>): Promise<ResealResult>;
}

/**
 * A table's `reseal` from its parts: `lock` selects those of the ids still pending `FOR UPDATE SKIP
 * LOCKED`; `store` opens a row's per-field columns, seals them as one record and writes it with the
 * per-field columns cleared (a DecryptionError before any write: the row is reported, the batch goes on).
 */
export function resealWith<Row>(parts: {
  lock: (tx: Tx, ids: number[]) => Promise<Row[]>;
  idOf: (row: Row) => number;
  ownerOf: (row: Row) => number;
  store: (tx: Tx, row: Row, dek: Buffer) => Promise<void>;
}): SealedTable['reseal'] {
  return async (tx, rows, keys) => {
    const out: ResealResult = { sealed: [], unreadable: [] };
    if (rows.length === 0) return out;
    const owners = new Map(rows.map((r) => [r.id, r.ownerId]));
    for (const row of await parts.lock(tx, [...owners.keys()])) {
      const id = parts.idOf(row);
      const owner = parts.ownerOf(row);
      const dek = keys.get(owner);
      // Its owner changed since it was listed (that owner is not locked): a later pass takes it.
      if (owner !== owners.get(id) || !dek) continue;
      try {
        await parts.store(tx, row, dek);
        out.sealed.push(id);
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
        out.unreadable.push(id);
      }
    }
    return out;
  };
}

export type SkipReason = 'unreadable' | 'erased' | 'no data key';

export interface TableReport {
  table: string;
  /** Rows in the per-field format when the table was started. */
  pending: number;
  /** Rows this run sealed. */
  sealed: number;
  skipped: { id: number; reason: SkipReason }[];
  /** Rows in the per-field format when the table was done (skipped ones, and any still busy). */
  left: number;
}

export interface ReencryptOptions {
  batchSize?: number;
  dryRun?: boolean;
  onProgress?: (line: string) => void;
}

const DEFAULT_BATCH = 500;
/** Rows a live writer held are taken by a later pass (a writer seals its row itself meanwhile). */
const MAX_PASSES = 20;
const PASS_PAUSE_MS = 100;

export async function reencryptRecords(
  deps: { db: Db; dataKeys: Pick<DataKeyStore, 'findMany'> },
  tables: readonly SealedTable[],
  opts: ReencryptOptions = {},
): Promise<TableReport[]> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  const progress = opts.onProgress ?? (() => undefined);
  const reports: TableReport[] = [];
  for (const table of tables) {
    const pending = await table.countPending(deps.db);
    const report: TableReport = { table: table.table, pending, sealed: 0, skipped: [], left: pending };
    reports.push(report);
    if (opts.dryRun) continue;
    progress(`${table.table}: ${String(pending)} rows in the per-field format`);
    if (pending === 0) continue;
    await reencryptTable(deps, table, batchSize, report, progress);
    report.left = await table.countPending(deps.db);
  }
  return reports;
}

async function reencryptTable(
  deps: { db: Db; dataKeys: Pick<DataKeyStore, 'findMany'> },
  table: SealedTable,
  batchSize: number,
  report: TableReport,
  progress: (line: string) => void,
): Promise<void> {
  const skipped = new Map<number, SkipReason>();
  for (let pass = 0; pass < MAX_PASSES; pass += 1) {
    let after = 0;
    let busy = 0;
    for (;;) {
      const listed = await table.pendingAfter(deps.db, after, batchSize);
      const last = listed.at(-1);
      if (!last) break;
      after = last.id;
      const todo = listed.filter((r) => !skipped.has(r.id));
      if (todo.length === 0) continue;
      const batch = await deps.db.transaction((tx) => resealBatch(tx, deps.dataKeys, table, todo));
      for (const [id, reason] of batch.skipped) skipped.set(id, reason);
      report.sealed += batch.sealed;
      busy += batch.busy;
      progress(`${table.table}: ${String(report.sealed)}/${String(report.pending)} re-sealed`);
    }
    if (busy === 0) break;
    await new Promise((resolve) => setTimeout(resolve, PASS_PAUSE_MS));
  }
  report.skipped = [...skipped].map(([id, reason]) => ({ id, reason }));
}

/** One batch, one transaction: owners locked (skipping busy ones), their keys, the rows re-sealed, one audit row. */
async function resealBatch(
  tx: Tx,
  dataKeys: Pick<DataKeyStore, 'findMany'>,
  table: SealedTable,
  rows: PendingRow[],
): Promise<{ sealed: number; busy: number; skipped: [number, SkipReason][] }> {
  const owners = await lockSubjectsSkipLocked(tx, [...new Set(rows.map((r) => r.ownerId))]);
  const keys = await dataKeys.findMany(tx, [...owners.live]);
  const ready: PendingRow[] = [];
  const skipped: [number, SkipReason][] = [];
  let busy = 0;
  for (const row of rows) {
    if (owners.erased.has(row.ownerId)) skipped.push([row.id, 'erased']);
    else if (!owners.live.has(row.ownerId)) busy += 1;
    else if (!keys.has(row.ownerId)) skipped.push([row.id, 'no data key']);
    else ready.push(row);
  }
  const result = await table.reseal(tx, ready, keys);
  for (const id of result.unreadable) skipped.push([id, 'unreadable']);
  // Rows a writer held (or sealed, or deleted) meanwhile: a later pass sees whether any is left.
  busy += ready.length - result.sealed.length - result.unreadable.length;
  if (result.sealed.length > 0) {
    await recordAudit(
      tx,
      { actor: null, meta: null },
      {
        action: 'data_reencrypted',
        resourceType: 'sealed_record',
        metadata: {
          table: table.table,
          rows: result.sealed.length,
          first_id: Math.min(...result.sealed),
          last_id: Math.max(...result.sealed),
        },
      },
    );
  }
  return { sealed: result.sealed.length, busy, skipped };
}
