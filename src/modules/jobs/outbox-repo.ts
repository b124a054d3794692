import { and, asc, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../../db/client.js';
import { jobOutbox, jobScheduleRuns } from '../../db/schema.js';

const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;

export interface OutboxRow {
  id: number;
  job: string;
  payload: string | null;
  attempts: number;
}

export interface FailedOutboxRow {
  id: number;
  job: string;
  attempts: number;
  lastError: string | null;
  failedAt: Date;
}

/** Queries of the job outbox and of the clock schedules' last runs (docs/operations.md#background-jobs). */
export function createOutboxRepo(db: DbOrTx) {
  return {
    async add(job: string, payload: string | null): Promise<number> {
      const [row] = await db.insert(jobOutbox).values({ job, payload }).returning({ id: jobOutbox.id });
      if (!row) throw new Error('outbox insert returned no row');
      return row.id;
    },

    async load(id: number): Promise<OutboxRow | undefined> {
      const [row] = await db
        .select({
          id: jobOutbox.id,
          job: jobOutbox.job,
          payload: jobOutbox.payload,
          attempts: jobOutbox.attempts,
        })
        .from(jobOutbox)
        .where(eq(jobOutbox.id, id));
      return row;
    },

    async remove(id: number): Promise<void> {
      await db.delete(jobOutbox).where(eq(jobOutbox.id, id));
    },

    /**
     * Rows to hand to the queue (call inside a transaction): never handed yet, or handed more than
     * `staleSeconds` ago and still here (their queue entry may have been lost with Redis; the queue's job
     * id is the row id, so a hand-over of a job it still holds changes nothing). Locked, skipping rows
     * another dispatcher holds, and stamped as handed.
     */
    async takeForDispatch(limit: number, staleSeconds: number): Promise<{ id: number; job: string }[]> {
      return rows<{ id: string | number; job: string }>(
        await db.execute(sql`
          update job_outbox set dispatched_at = now()
          where id in (
            select id from job_outbox
            where failed_at is null
              and (dispatched_at is null or dispatched_at < now() - make_interval(secs => ${staleSeconds}))
            order by id limit ${limit}
            for update skip locked)
          returning id, job`),
      ).map((r) => ({ id: Number(r.id), job: r.job }));
    },

    /**
     * In-process runner: claims due rows for `leaseSeconds`; a process that dies while running one
     * leaves it due again when the lease ends. Attempts are counted when one fails (`retryLater`).
     */
    async claimDue(limit: number, leaseSeconds: number): Promise<OutboxRow[]> {
      return rows<{ id: string | number; job: string; payload: string | null; attempts: number }>(
        await db.execute(sql`
          update job_outbox
          set next_attempt_at = now() + make_interval(secs => ${leaseSeconds})
          where id in (
            select id from job_outbox
            where dispatched_at is null and failed_at is null and next_attempt_at <= now()
            order by next_attempt_at, id limit ${limit}
            for update skip locked)
          returning id, job, payload, attempts`),
      ).map((r) => ({ ...r, id: Number(r.id) }));
    },

    /** Due again after `delayMs`; `spent`: the failure counts as one of its attempts (not an outage). */
    async retryLater(id: number, delayMs: number, error: string, spent: boolean): Promise<void> {
      await db
        .update(jobOutbox)
        .set({
          nextAttemptAt: sql`now() + make_interval(secs => ${delayMs / 1000})`,
          lastError: error.slice(0, 500),
          ...(spent ? { attempts: sql`${jobOutbox.attempts} + 1` } : {}),
        })
        .where(eq(jobOutbox.id, id));
    },

    async giveUp(id: number, error: string): Promise<void> {
      await db
        .update(jobOutbox)
        .set({
          failedAt: sql`now()`,
          lastError: error.slice(0, 500),
          attempts: sql`${jobOutbox.attempts} + 1`,
        })
        .where(eq(jobOutbox.id, id));
    },

    async failed(limit: number): Promise<FailedOutboxRow[]> {
      const found = await db
        .select({
          id: jobOutbox.id,
          job: jobOutbox.job,
          attempts: jobOutbox.attempts,
          lastError: jobOutbox.lastError,
          failedAt: jobOutbox.failedAt,
        })
        .from(jobOutbox)
        .where(isNotNull(jobOutbox.failedAt))
        .orderBy(asc(jobOutbox.id))
        .limit(limit);
      return found.map((r) => ({ ...r, failedAt: r.failedAt ?? new Date(0) }));
    },

    /** A failed row is due again with fresh attempts; false when there is no such failed row. */
    async revive(id: number): Promise<boolean> {
      const revived = await db
        .update(jobOutbox)
        .set({ failedAt: null, attempts: 0, nextAttemptAt: sql`now()`, dispatchedAt: null })
        .where(and(eq(jobOutbox.id, id), isNotNull(jobOutbox.failedAt)))
        .returning({ id: jobOutbox.id });
      return revived.length > 0;
    },

    /** The outbox's depth in one statement: rows waiting or running, and rows given up. */
    async depth(): Promise<{ pending: number; failed: number }> {
      const [row] = rows<{ pending: string | number; failed: string | number }>(
        await db.execute(sql`select count(*) filter (where failed_at is null) as pending,
                                    count(*) filter (where failed_at is not null) as failed
                             from job_outbox`),
      );
      return { pending: Number(row?.pending ?? 0), failed: Number(row?.failed ?? 0) };
    },

    /**
     * Removes rows given up before `before`, and rows handed to the queue before it and still here
     * (their queue job failed and the queue has forgotten it); their sealed data goes with them.
     */
    async purgeGivenUp(before: Date): Promise<number> {
      const gone = await db
        .delete(jobOutbox)
        .where(or(lt(jobOutbox.failedAt, before), lt(jobOutbox.dispatchedAt, before)))
        .returning({ id: jobOutbox.id });
      return gone.length;
    },

    async lastSlot(job: string): Promise<Date | undefined> {
      const [row] = await db
        .select({ lastSlot: jobScheduleRuns.lastSlot })
        .from(jobScheduleRuns)
        .where(eq(jobScheduleRuns.job, job));
      return row?.lastSlot;
    },

    async recordSlot(job: string, slot: Date): Promise<void> {
      await db
        .insert(jobScheduleRuns)
        .values({ job, lastSlot: slot, finishedAt: sql`now()` })
        .onConflictDoUpdate({
          target: jobScheduleRuns.job,
          set: {
            lastSlot: sql`greatest(${jobScheduleRuns.lastSlot}, excluded.last_slot)`,
            finishedAt: sql`now()`,
          },
        });
    },

    /** Ids of rows not given up, oldest first. */
    async pendingIds(limit: number): Promise<number[]> {
      const found = await db
        .select({ id: jobOutbox.id })
        .from(jobOutbox)
        .where(isNull(jobOutbox.failedAt))
        .orderBy(asc(jobOutbox.id))
        .limit(limit);
      return found.map((r) => r.id);
    },

    /** Rows never handed over and not failed (tests and the in-process runner's idle check). */
    async undispatched(): Promise<number> {
      const found = await db
        .select({ id: jobOutbox.id })
        .from(jobOutbox)
        .where(and(isNull(jobOutbox.dispatchedAt), isNull(jobOutbox.failedAt)))
        .limit(1);
      return found.length;
    },
  };
}
export type OutboxRepo = ReturnType<typeof createOutboxRepo>;
