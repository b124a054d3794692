import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer, type Container } from '../src/container.js';
import { deploymentId } from '../src/db/deployment.js';
import { jobOutbox, jobScheduleRuns, sessions } from '../src/db/schema.js';
import { slotAtOrBefore } from '../src/modules/jobs/index.js';
import { createUserWithSession, registerCandidate, type TestApp, testClock } from './helpers/app.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { startSmtpServer } from './helpers/smtp.js';
import { sharedSecrets, startWorker, type WorkerProcess } from './helpers/worker-process.js';

/**
 * The worker process on BullMQ (docs/operations.md#background-jobs): the web process only writes jobs
 * (JOB_RUNNER=worker) and `src/worker.ts`, a process of its own, runs them. Needs PostgreSQL and Redis
 * (TEST_DATABASE_URL, TEST_REDIS_URL): two processes cannot share an embedded database.
 */
const redisUrl = process.env.TEST_REDIS_URL;
const enabled = Boolean(process.env.TEST_DATABASE_URL && redisUrl);

const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.runIf(enabled)('a worker process runs the jobs the web process enqueues', () => {
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let drop: () => Promise<void>;
  let c: Container;
  let app: FastifyInstance;
  let t: TestApp;
  let workerEnv: Record<string, string>;
  const workers: WorkerProcess[] = [];
  let prefix: string;

  beforeAll(async () => {
    smtp = await startSmtpServer({ holdFirst: true });
    const fresh = await freshDatabase();
    drop = fresh.drop;
    prefix = `pss-test:${randomBytes(6).toString('hex')}:`;
    const env = {
      ...sharedSecrets(),
      REDIS_URL: redisUrl!,
      REDIS_KEY_PREFIX: prefix,
      JOB_RUNNER: 'worker',
      EMAIL_BACKEND: 'smtp',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: String(smtp.port),
      EMAIL_USE_TLS: 'false',
      EMAIL_RETRY_DELAY_SECONDS: '1',
      WORKER_LOCK_SECONDS: '2',
    };
    workerEnv = { ...env, DATABASE_URL: fresh.url!, EMAIL_BACKEND: 'smtp' };
    c = await createContainer(testConfig(env), {
      database: fresh.database,
      clock: testClock(),
      migrate: false,
      redisPrefix: prefix,
    });
    app = await buildApp(c);
    await app.ready();
    t = {
      app,
      c,
      clock: testClock(),
      request: ({ token, headers, ...opts }) =>
        app.inject({
          ...opts,
          headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        }),
      close: () => app.close(),
    };
    await c.jobs.start();
  });

  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await app?.close();
    await smtp?.close();
    await drop?.();
  });

  it(
    "an e-mail waits in the outbox while no worker runs; a killed worker's delivery is done by the next one, once",
    { timeout: 60_000 },
    async () => {
      const user = await registerCandidate(t);
      const res = await t.request({
        method: 'POST',
        url: '/api/auth/password-reset/request/',
        payload: { email: user.email },
      });
      expect(res.statusCode).toBe(200);
      // No worker yet: the web process runs no job.
      await new Promise((r) => setTimeout(r, 500));
      expect(smtp.inbox).toHaveLength(0);
      expect((await c.db.select().from(jobOutbox)).length).toBeGreaterThanOrEqual(1);

      // One job at a time: only the held delivery is in flight when the worker dies.
      const first = startWorker({ ...workerEnv, WORKER_CONCURRENCY: '1' });
      workers.push(first);
      await first.waitFor('PSS worker running');
      // The SMTP server holds the first delivery it receives: the worker is mid-job. Kill it there.
      await smtp.held;
      first.child.kill('SIGKILL');
      await first.exited;
      expect(smtp.inbox).toHaveLength(0);

      const second = startWorker(workerEnv);
      workers.push(second);
      // The held one is run again once its dead worker's lock lapses (WORKER_LOCK_SECONDS=2).
      await waitUntil('every e-mail to be delivered', () => smtp.inbox.length >= 3);
      await waitUntil('the outbox to empty', async () => (await c.db.select().from(jobOutbox)).length === 0);
      await new Promise((r) => setTimeout(r, 3000));
      const subjects = smtp.inbox.map((m) => `${m.to.join(',')} ${m.subject}`).sort();
      // The welcome message, the administrator's new-user notice and the reset link, each exactly once.
      expect(subjects).toEqual(
        [
          `${c.config.email.adminNotification} New User Registered`,
          `${user.email} Password Reset Request`,
          `${user.email} Welcome to PSS Platform!`,
        ].sort(),
      );
      expect(smtp.inbox.filter((m) => m.text.includes('reset-password?token='))).toHaveLength(1);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    },
  );

  it(
    'a daily job missed while no worker ran runs when a worker starts; SIGTERM stops it cleanly',
    { timeout: 60_000 },
    async () => {
      const user = await createUserWithSession(t, 'candidate');
      await c.db
        .update(sessions)
        .set({ expiresAt: new Date(Date.now() - 60 * 86_400_000) })
        .where(eq(sessions.userId, user.id));
      const missed = slotAtOrBefore('0 2 * * *', c.config.timeZone, new Date(Date.now() - 3 * 86_400_000));
      await c.db
        .insert(jobScheduleRuns)
        .values({ job: 'sessions.cleanup', lastSlot: missed, finishedAt: missed })
        .onConflictDoUpdate({ target: jobScheduleRuns.job, set: { lastSlot: missed } });
      const worker = startWorker(workerEnv);
      workers.push(worker);
      const today = slotAtOrBefore('0 2 * * *', c.config.timeZone, new Date()).getTime();
      // The run deletes the sessions, then records its slot: wait for both.
      await waitUntil(
        'the missed cleanup to run and record its slot',
        async () =>
          (await c.db.select().from(sessions).where(eq(sessions.userId, user.id))).length === 0 &&
          (
            await c.db.select().from(jobScheduleRuns).where(eq(jobScheduleRuns.job, 'sessions.cleanup'))
          )[0]?.lastSlot.getTime() === today,
      );
      const [run] = await c.db
        .select()
        .from(jobScheduleRuns)
        .where(eq(jobScheduleRuns.job, 'sessions.cleanup'));
      expect(run!.lastSlot.getTime()).toBe(
        slotAtOrBefore('0 2 * * *', c.config.timeZone, new Date()).getTime(),
      );
      // Its schedulers are installed in Redis for every job, cron read in TIME_ZONE.
      const queue = new Queue('jobs', {
        connection: { url: redisUrl! },
        prefix: `${prefix}${await deploymentId(c.db)}:bull`,
      });
      try {
        const installed = await queue.getJobSchedulers();
        const byName = new Map(installed.map((s) => [s.key, s]));
        expect([...byName.keys()].sort()).toEqual(c.scheduledJobs.map((j) => j.name).sort());
        for (const job of c.scheduledJobs) {
          const s = byName.get(job.name)!;
          if ('cron' in job.schedule) {
            expect(s.pattern, job.name).toBe(job.schedule.cron);
            expect(s.tz, job.name).toBe(c.config.timeZone);
          } else {
            expect(Number(s.every), job.name).toBe(job.schedule.everyMs);
          }
        }
        expect(byName.get('sessions.cleanup')?.pattern).toBe('0 2 * * *');
      } finally {
        await queue.close();
      }
      const failed = await t.request({ method: 'GET', url: '/api/admin/jobs/failed/' });
      expect(failed.statusCode).toBe(401);
      worker.child.kill('SIGTERM');
      expect(await worker.exited).toBe(0);
      expect(worker.log()).toContain('worker shutting down');
    },
  );
});
