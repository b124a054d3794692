import type { Db, DbOrTx } from '../../db/client.js';
import { createOutboxRepo } from './outbox-repo.js';
import type { PayloadSealer } from './payload.js';
import type { JobHandlers, JobResult } from './types.js';

/** A job name no handler knows: the row stays as failed (a deployment with older code must not drop it). */
export class UnknownJobError extends Error {
  constructor(job: string) {
    super(`no handler for job "${job}"`);
    this.name = 'UnknownJobError';
  }
}

export interface OutboxDeps {
  db: Db;
  sealer: PayloadSealer;
  handlers: JobHandlers;
}

/** Writes a job's intent: sealed data in `job_outbox`, in the caller's transaction when given. */
export async function addToOutbox(
  deps: OutboxDeps,
  job: string,
  data: unknown,
  tx?: DbOrTx,
): Promise<number> {
  if (!deps.handlers[job]) throw new UnknownJobError(job);
  const payload = data === undefined ? null : deps.sealer.seal(job, data);
  return createOutboxRepo(tx ?? deps.db).add(job, payload);
}

const REMOVE_TRIES = 8;

/**
 * Does the job of one outbox row, then deletes the row: the row's absence is the record that the
 * effect happened, so a retry after a crash or an outage finds nothing and does nothing. Only a crash
 * between the effect and the delete repeats the effect (an e-mail could then arrive twice); the delete
 * is retried through a short database outage to make that window small.
 */
export async function runOutboxRow(
  deps: OutboxDeps,
  id: number,
): Promise<{ job: string | undefined; result: JobResult }> {
  const repo = createOutboxRepo(deps.db);
  const row = await repo.load(id);
  if (!row) return { job: undefined, result: { skipped: 'already done' } };
  const handler = deps.handlers[row.job];
  if (!handler) throw new UnknownJobError(row.job);
  const data = row.payload === null ? undefined : deps.sealer.open(row.job, row.payload);
  const result = await handler(data);
  for (let attempt = 1; ; attempt += 1) {
    try {
      await repo.remove(id);
      break;
    } catch (err) {
      if (attempt >= REMOVE_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** attempt, 8_000)));
    }
  }
  return { job: row.job, result };
}
