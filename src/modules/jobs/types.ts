import type { DbOrTx } from '../../db/client.js';

/** What a run did, logged with its "job finished" line (numbers, or short non-sensitive text). */
export type JobResult = Record<string, number | string> | undefined;

/** When a periodic job runs: a cron pattern read in TIME_ZONE, or a fixed interval. */
export type Schedule = { cron: string } | { everyMs: number };

/** A periodic job (docs/operations.md#scheduled-jobs): idempotent, it selects what is due itself. */
export interface ScheduledJob {
  name: string;
  schedule: Schedule;
  run: () => Promise<JobResult>;
}

/** Code of a job asked for on demand (through the outbox): `data` is what was enqueued. */
export type JobHandler = (data: unknown) => Promise<JobResult>;
export type JobHandlers = Readonly<Record<string, JobHandler>>;

export interface FailedJob {
  /** Queue job id (or outbox row id without Redis): what `jobs:retry` takes. */
  id: string;
  job: string;
  attempts: number;
  /** Why the last attempt failed (addresses masked; no data). */
  reason: string;
  failedAt: Date;
}

/** Background work: enqueue in a transaction, run in the worker (or in-process without one). */
export interface JobRunner {
  readonly mode: 'queue' | 'local';
  /** Writes the job's durable intent; in `tx`, it exists only if that transaction commits. */
  enqueue(job: string, data: unknown, tx?: DbOrTx): Promise<void>;
  /** After a commit that enqueued: hand work over now instead of at the next sweep. */
  kick(): void;
  /** Starts running jobs and schedules (worker role); a producer only hands work over. */
  start(): Promise<void>;
  /** Stops taking work and waits up to `graceMs` for running jobs; then closes connections. */
  stop(graceMs: number): Promise<void>;
  /** Resolves when no enqueued work is waiting or running (tests); with a queue, waits for its worker. */
  idle(): Promise<void>;
  /** Before a short-lived process exits (CLI): in-process, runs what is due; with a queue, hands it over. */
  flush(): Promise<void>;
  failed(limit: number): Promise<FailedJob[]>;
  /** Runs a failed job again; false when there is no such failed job. */
  retry(id: string): Promise<boolean>;
  /** Waiting/active/delayed/failed counts (metrics `jobs_queue_depth`). */
  depth(): Promise<Record<string, number>>;
}

export interface JobLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Called once per attempt (metrics `jobs_total`): `retry` = failed, tried again later; `skipped` = its slot had already run. */
export type JobOutcomeSink = (job: string, outcome: 'success' | 'failure' | 'retry' | 'skipped') => void;

/** Masks e-mail addresses in an error text before it is stored or logged (SMTP errors quote them). */
export const maskedReason = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err))
    .replace(/[^\s<>"']+@[^\s<>"']+/g, '[address]')
    .slice(0, 500);
