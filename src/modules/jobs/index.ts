/**
 * Background jobs (docs/operations.md#background-jobs): the outbox, the runners (BullMQ with a worker,
 * or in-process), clock schedules, the failed-job listing (routes, CLI).
 */
import type { Db } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { createLocalRunner } from './local-runner.js';
import { createOutboxRepo } from './outbox-repo.js';
import { createPayloadSealer } from './payload.js';
import { createQueueRunner } from './queue-runner.js';
import type { SlotLease } from './slot-lease.js';
import type { JobHandler, JobLogger, JobOutcomeSink, JobRunner, ScheduledJob } from './types.js';

export { jobCommands, type JobCliServices } from './cli.js';
export { jobHousekeeping } from './housekeeping.js';
export { jobRoutes } from './routes.js';
export { slotAfter, slotAtOrBefore } from './schedule.js';
export { createSlotLease, type SlotLease } from './slot-lease.js';
export type { FailedJob, JobHandler, JobResult, JobRunner, Schedule, ScheduledJob } from './types.js';

export interface JobRunnerOptions {
  db: Db;
  cipher: Pick<FieldCipher, 'encrypt' | 'decrypt'>;
  blindIndexKey: Buffer;
  /** Filled by the composition root once services exist (before `start`). */
  handlers: Record<string, JobHandler>;
  scheduled: ScheduledJob[];
  timeZone: string;
  logger: JobLogger;
  onOutcome: JobOutcomeSink;
  claim: (key: string, ttlSeconds: number) => Promise<boolean>;
  /** One run per slot of a clock job cluster-wide (the shared store: Redis, or memory for one process). */
  lease: SlotLease;
  attempts: number;
  backoffMs: number;
  /** Set: BullMQ on this Redis (`role` says whether this process runs jobs). Unset: in-process. */
  queue?: {
    redisUrl: string;
    prefix: string;
    role: 'worker' | 'producer';
    concurrency: number;
    lockMs: number;
  };
  pollMs?: number;
}

export function createJobRunner(opts: JobRunnerOptions): JobRunner {
  const base = {
    outbox: {
      db: opts.db,
      sealer: createPayloadSealer(opts.cipher, opts.blindIndexKey),
      handlers: opts.handlers,
    },
    scheduled: opts.scheduled,
    attempts: opts.attempts,
    backoffMs: opts.backoffMs,
    pollMs: opts.pollMs,
  };
  const scheduling = {
    repo: () => createOutboxRepo(opts.db),
    timeZone: opts.timeZone,
    logger: opts.logger,
    onOutcome: opts.onOutcome,
    lease: opts.lease,
  };
  if (opts.queue) return createQueueRunner({ ...base, ...opts.queue, scheduling });
  return createLocalRunner({ ...base, scheduling: { ...scheduling, claim: opts.claim } });
}
