import { createHash, randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createContainer, type Container } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { startSmtpServer } from './helpers/smtp.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { sharedSecrets, startWorker, type WorkerProcess } from './helpers/worker-process.js';

/**
 * Faults in the whole deployment (docs/operations.md#faults): web instances, a worker
 * process, PostgreSQL and Redis, with the database or Redis reached through TCP proxies this file
 * controls. A proxy cut stands for a restart or failover of the server: every open connection drops
 * and new ones are refused, then the port accepts again (the data survives, as with a restarted
 * server). The machine's shared PostgreSQL and Redis are never stopped: other test files use them.
 *
 * The worker retries a failed e-mail once, 1 s later (EMAIL_MAX_RETRIES=1, EMAIL_RETRY_DELAY_SECONDS=1):
 * every outage below outlasts those attempts, as one of four minutes outlasts the production defaults.
 * A job must wait for its dependency, not spend its attempts on it.
 */
const adminUrl = process.env.TEST_DATABASE_URL;
const redisUrl = process.env.TEST_REDIS_URL;

const PASSWORD = 'Tq9!Vb7#Lm4$Xz2k';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

type Smtp = Awaited<ReturnType<typeof startSmtpServer>>;

interface Instance {
  c: Container;
  request: (opts: {
    method: 'GET' | 'POST';
    url: string;
    token?: string;
    payload?: object;
  }) => Promise<LightMyRequestResponse>;
}

/**
 * One deployment on a fresh database: `instances` web processes (in this process, JOB_RUNNER=worker:
 * they only write jobs) and worker processes started on demand. Both reach `proxy` (PostgreSQL or
 * Redis) through the TCP proxy; the other one directly.
 */
async function deployment(opts: { instances: number; proxy: 'database' | 'redis'; smtpDelayMs: number }) {
  const fresh = await freshDatabase();
  const directUrl = new URL(fresh.url!);
  const redis = new URL(redisUrl!);
  const target =
    opts.proxy === 'database'
      ? { host: directUrl.hostname, port: Number(directUrl.port || 5432) }
      : { host: redis.hostname, port: Number(redis.port || 6379) };
  const proxy = await startTcpProxy(target);
  // Connections of the worker carry a name of their own: a "restart" ends them on the server too.
  const workerTag = `pss_faults_worker_${randomBytes(4).toString('hex')}`;
  const proxiedDb = new URL(directUrl);
  if (opts.proxy === 'database') proxiedDb.host = proxy.address;
  const proxiedRedis = new URL(redis);
  if (opts.proxy === 'redis') proxiedRedis.host = proxy.address;
  const workerDb = new URL(proxiedDb);
  workerDb.searchParams.set('application_name', workerTag);

  const smtp = await startSmtpServer({ delayMs: opts.smtpDelayMs });
  const prefix = `pss-test:${randomBytes(6).toString('hex')}:`;
  const env = {
    ...sharedSecrets(),
    REDIS_URL: proxiedRedis.toString(),
    REDIS_KEY_PREFIX: prefix,
    JOB_RUNNER: 'worker',
    EMAIL_BACKEND: 'smtp',
    EMAIL_HOST: '127.0.0.1',
    EMAIL_PORT: String(smtp.port),
    EMAIL_USE_TLS: 'false',
    EMAIL_MAX_RETRIES: '1',
    EMAIL_RETRY_DELAY_SECONDS: '1',
    WORKER_LOCK_SECONDS: '2',
    SHUTDOWN_GRACE_SECONDS: '2',
  };
  const databases: Database[] = [];
  const instances: Instance[] = [];
  for (let i = 0; i < opts.instances; i += 1) {
    const database =
      opts.proxy === 'database'
        ? await openDatabase({ url: proxiedDb.toString(), poolMax: 8 })
        : fresh.database;
    if (database !== fresh.database) databases.push(database);
    const c = await createContainer(testConfig({ ...env, DATABASE_URL: proxiedDb.toString() }), {
      database,
      migrate: false,
      redisPrefix: prefix,
    });
    const app = await buildApp(c);
    await app.ready();
    await c.jobs.start();
    instances.push({
      c,
      request: ({ token, ...rest }) =>
        app.inject({ ...rest, headers: token ? { authorization: `Bearer ${token}` } : {} }),
    });
  }
  const workers: WorkerProcess[] = [];
  // The test's own view of the server (and its "restart") goes past a transaction pooler when there is
  // one: through it, this client could be linked to a server session that carries the worker's name.
  const serverUrl = fresh.directUrl ?? fresh.url!;
  const check = new pg.Client({ connectionString: serverUrl });
  await check.connect();

  return {
    proxy,
    smtp,
    check,
    directUrl: serverUrl,
    instances,
    web: instances[0]!,
    startWorker: () => {
      const w = startWorker({
        ...env,
        DATABASE_URL: workerDb.toString(),
        WORKER_CONCURRENCY: '4',
      });
      workers.push(w);
      return w;
    },
    /** The last lines the workers logged (shown when a test fails). */
    workerLogs: () => workers.map((w) => w.log().split('\n').slice(-120).join('\n')).join('\n---\n'),
    /** Ends the worker's server-side sessions, as a stopping server does. */
    terminateWorkerSessions: async () => {
      await check.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [workerTag],
      );
    },
    workerTag,
    /**
     * Every job done and none running: the outbox is empty (each effect happened and was recorded) and
     * no queue job is active, so no late re-run of a job whose lock expired can repeat an effect.
     */
    settled: async () => {
      await waitUntil(
        'every job to be done',
        async () => {
          const outbox = Number((await check.query('select count(*) as n from job_outbox')).rows[0].n);
          const depth = await instances[0]!.c.jobs.depth();
          return outbox === 0 && (depth.active ?? 0) === 0 && (depth.waiting ?? 0) === 0;
        },
        20_000,
      );
      await sleep(300);
    },
    /** Rows still in the outbox (jobs not done). */
    outbox: async () => Number((await check.query('select count(*) as n from job_outbox')).rows[0].n),
    /**
     * The clock jobs a fresh worker runs at start (every slot is missed on a new database) have all
     * recorded their slot: a fault after this meets the e-mails under test, not those start-up runs.
     */
    startupRunsDone: async () => {
      const clockJobs = instances[0]!.c.scheduledJobs.filter((j) => 'cron' in j.schedule).length;
      await waitUntil(
        'the start-up runs of the clock jobs',
        async () =>
          Number((await check.query('select count(*) as n from job_schedule_runs')).rows[0].n) >= clockJobs,
        20_000,
      );
    },
    close: async () => {
      for (const w of workers) w.child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      for (const i of instances) await i.c.close(1000);
      await check.end();
      for (const d of databases) await d.close();
      await proxy.close();
      await smtp.close();
      await fresh.drop();
    },
  };
}
type Deployment = Awaited<ReturnType<typeof deployment>>;

let seq = 0;
const newEmail = (tag: string) => `${tag}.${randomBytes(4).toString('hex')}${(seq += 1)}@capaciti.org.za`;

async function register(web: Instance, tag: string): Promise<{ email: string; access: string; id: number }> {
  const email = newEmail(tag);
  const res = await web.request({
    method: 'POST',
    url: '/api/auth/register/',
    payload: { email, password: PASSWORD, first_name: 'Fault', last_name: 'Tester' },
  });
  if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
  const json = res.json<{ access: string; user: { id: number } }>();
  return { email, access: json.access, id: json.user.id };
}

/** One after the other: password hashing is bounded per process (a burst would be answered 503 busy). */
async function registerMany(web: Instance, tag: string, n: number) {
  const users: Awaited<ReturnType<typeof register>>[] = [];
  for (let i = 0; i < n; i += 1) users.push(await register(web, tag));
  return users;
}

const resetRequest = (web: Instance, email: string) =>
  web.request({ method: 'POST', url: '/api/auth/password-reset/request/', payload: { email } });

/** Every message delivered: recipient, subject and a digest of its text (a repeat has the same). */
const delivered = (smtp: Smtp) =>
  smtp.inbox.map(
    (m) =>
      `${m.to.join(',')} | ${m.subject} | ${createHash('sha256').update(m.text).digest('hex').slice(0, 12)}`,
  );

const duplicates = (list: string[]) => list.filter((x, i) => list.indexOf(x) !== i);

/** An answer given while a dependency was cut: done (2xx), or the documented 503 envelope. */
function expectDoneOr503(res: LightMyRequestResponse) {
  if (res.statusCode < 300) return;
  expect(res.statusCode, res.body).toBe(503);
  expect(res.json<{ code: string }>().code).toBe('service_unavailable');
  expect(res.headers['retry-after']).toBe('5');
}

describe.runIf(adminUrl && redisUrl)(
  'faults in the whole deployment (web, worker, PostgreSQL, Redis)',
  () => {
    let d: Deployment | undefined;
    afterEach(async ({ task }) => {
      if (task.result?.state === 'fail' && d) process.stderr.write(`worker log:\n${d.workerLogs()}\n`);
      await d?.close();
      d = undefined;
    });

    it(
      'Redis goes away while workers run jobs: requests keep queueing e-mails, each is delivered once after it returns',
      { timeout: 45_000 },
      async () => {
        d = await deployment({ instances: 1, proxy: 'redis', smtpDelayMs: 200 });
        const { web, smtp } = d;
        const worker = d.startWorker();
        const leaving = d.startWorker();
        await Promise.all([worker.waitFor('PSS worker running'), leaving.waitFor('PSS worker running')]);
        await d.startupRunsDone();
        const users = await registerMany(web, 'redis', 4);
        // Deliveries are under way (the slow mail server keeps some in flight) when Redis goes.
        await waitUntil('a first delivery', () => smtp.inbox.length >= 1);
        await d.proxy.stop();
        // A worker told to stop while Redis is gone still stops, within its grace period: what it was
        // running is left to its lock and done by the other worker.
        const stopping = Date.now();
        leaving.child.kill('SIGTERM');

        // The web side goes on: the e-mails of these requests wait in the PostgreSQL outbox.
        const joined = await registerMany(web, 'redis-down', 3);
        users.push(...joined);
        const queuedWhileDown = joined.map((u) => u.email);
        const during = await Promise.all(users.map((u) => resetRequest(web, u.email)));
        // A reset request needs no Redis: answered as usual, nothing refused.
        expect(during.map((r) => r.statusCode)).toEqual(users.map(() => 200));
        await sleep(1000);
        expect(await d.outbox()).toBeGreaterThan(0);
        expect(await leaving.exited).toBe(0);
        expect(Date.now() - stopping).toBeLessThan(2000 + 3000); // SHUTDOWN_GRACE_SECONDS=2, and room
        // Nothing sent while the queue cannot be reached (apart from deliveries already in flight).
        expect(delivered(smtp).filter((m) => queuedWhileDown.some((e) => m.startsWith(e)))).toEqual([]);

        await d.proxy.start();
        const expected = users.length * 2 + users.length; // welcome + admin notice each, and one reset each
        await waitUntil('every e-mail', () => smtp.inbox.length >= expected, 25_000);
        await d.settled();
        const mails = delivered(smtp);
        expect(duplicates(mails)).toEqual([]);
        expect(mails).toHaveLength(expected);
        for (const u of users) {
          expect(mails.filter((m) => m.startsWith(`${u.email} | Password Reset Request`))).toHaveLength(1);
          expect(mails.filter((m) => m.startsWith(`${u.email} | Welcome to PSS`))).toHaveLength(1);
        }
        // The worker came back by itself and still shuts down cleanly.
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
      },
    );

    it(
      'PostgreSQL goes away while e-mails and an erasure are in flight: each e-mail once, the erasure once',
      { timeout: 45_000 },
      async () => {
        d = await deployment({ instances: 1, proxy: 'database', smtpDelayMs: 300 });
        const { web, smtp, check } = d;
        const victim = await register(web, 'erase');
        // An approved deletion request whose grace period has passed: `deletion.run-due` erases it. A fresh
        // database has no schedule run yet, so a worker starting now runs every clock job at once (missed slots).
        await check.query(
          `insert into data_deletion_requests (user_id, status, reason, reviewed_at, scheduled_for)
         values ($1, 'approved', 'fault test', now() - interval '8 days', now() - interval '1 hour')`,
          [victim.id],
        );
        // Hold the victim's row: the erasure waits for it inside its transaction, in flight, when the cut comes.
        const hold = new pg.Client({ connectionString: d.directUrl });
        await hold.connect();
        await hold.query('begin');
        await hold.query('select id from users where id = $1 for update', [victim.id]);

        const worker = d.startWorker();
        const others = await registerMany(web, 'pg', 4);
        await waitUntil('the erasure to wait for its row', async () => {
          const r = await check.query<{ n: string }>(
            `select count(*) as n from pg_stat_activity where application_name = $1 and wait_event_type = 'Lock'`,
            [d!.workerTag],
          );
          return Number(r.rows[0]!.n) > 0;
        });
        // Reset links for the others (two each), queued now: the slow mail server keeps several in flight.
        const answers = await Promise.all([...others, ...others].map((u) => resetRequest(web, u.email)));
        expect(answers.map((r) => r.statusCode)).toEqual(answers.map(() => 200));
        await waitUntil('a first reset link delivered', () =>
          smtp.inbox.some((m) => m.subject === 'Password Reset Request'),
        );

        // PostgreSQL "restarts": the worker's connections drop, the server ends its sessions, the port refuses.
        await d.proxy.stop();
        await d.terminateWorkerSessions();
        await hold.query('rollback');
        await hold.end();
        await sleep(3000);
        await d.proxy.start();

        // welcome + admin notice each, two resets for each of the others, and the erasure's notice.
        const expected = 5 * 2 + 4 * 2 + 1;
        await waitUntil('every e-mail', () => smtp.inbox.length >= expected, 25_000);
        await d.settled();
        const mails = delivered(smtp);
        expect(duplicates(mails)).toEqual([]);
        expect(mails).toHaveLength(expected);
        expect(mails.filter((m) => m.includes('data deletion request has been completed'))).toEqual([
          expect.stringMatching(new RegExp(`^${victim.email.replace(/\./g, '\\.')} \\| `)),
        ]);

        // Erased once: anonymised, the request completed, one deletion_executed entry.
        const user = await check.query('select email, anonymized_at from users where id = $1', [victim.id]);
        expect(user.rows[0].anonymized_at).not.toBeNull();
        expect(user.rows[0].email).toBe(`deleted_${victim.id}@deleted.local`);
        const request = await check.query('select status from data_deletion_requests where user_id = $1', [
          victim.id,
        ]);
        expect(request.rows.map((r: { status: string }) => r.status)).toEqual(['completed']);
        const audit = await check.query(
          `select count(*) as n from audit_log where action = 'deletion_executed' and subject_user_id = $1`,
          [victim.id],
        );
        expect(Number(audit.rows[0].n)).toBe(1);
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
      },
    );

    it(
      'two API instances and a worker under load through a PostgreSQL restart lose no acknowledged write',
      { timeout: 45_000 },
      async () => {
        d = await deployment({ instances: 2, proxy: 'database', smtpDelayMs: 50 });
        const { instances, smtp, check } = d;
        const worker = d.startWorker();
        const writers = await registerMany(instances[0]!, 'load', 2);
        writers.push(...(await registerMany(instances[1]!, 'load', 2)));
        const resetees = await registerMany(instances[0]!, 'reset', 4);
        resetees.push(...(await registerMany(instances[1]!, 'reset', 4)));
        await worker.waitFor('PSS worker running');

        interface Outcome {
          kind: 'journal' | 'reset';
          res: LightMyRequestResponse;
          date?: string;
          email?: string;
          during: boolean;
        }
        const outcomes: Outcome[] = [];
        let cut = false;
        let running = true;
        let day = 0;
        let resets = 0;
        const loops = [
          ...writers.map(async (u, i) => {
            const web = instances[i % 2]!;
            while (running) {
              day += 1;
              const date = new Date(Date.UTC(2001, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
              const during = cut;
              const res = await web.request({
                method: 'POST',
                url: '/api/journal/',
                token: u.access,
                payload: { date, mood: 'good', energy_level: 5, activities: 'fault test', notes: 'restart' },
              });
              outcomes.push({ kind: 'journal', res, date, during: during || cut });
              await sleep(10);
            }
          }),
          ...[0, 1].map(async (i) => {
            const web = instances[i]!;
            // The reset mails of one address are limited to 3 an hour: at most 3 requests each.
            while (running && resets < resetees.length * 3) {
              const u = resetees[resets % resetees.length]!;
              resets += 1;
              const during = cut;
              const res = await resetRequest(web, u.email);
              outcomes.push({ kind: 'reset', res, email: u.email, during: during || cut });
              await sleep(20);
            }
          }),
        ];
        await sleep(1000);
        cut = true;
        await d.proxy.stop();
        await d.terminateWorkerSessions();
        await sleep(2000);
        await d.proxy.start();
        cut = false;
        // Served again without a restart, on both instances.
        for (const web of instances) {
          await waitUntil(
            'the instance to serve again',
            async () =>
              (await web.request({ method: 'GET', url: '/api/auth/me/', token: writers[0]!.access }))
                .statusCode === 200,
            5000,
          );
        }
        await sleep(1000);
        running = false;
        await Promise.all(loops);

        // Every answer: done, or the documented 503 (never a 500, never a hang).
        for (const o of outcomes) expectDoneOr503(o.res);
        expect(outcomes.filter((o) => o.during && o.res.statusCode === 503).length).toBeGreaterThan(0);
        const after = outcomes.filter((o) => !o.during).slice(-10);
        expect(after.every((o) => o.res.statusCode < 300)).toBe(true);

        // Every journal entry answered 201 is there, with the date it was given.
        const acked = outcomes.filter((o) => o.kind === 'journal' && o.res.statusCode === 201);
        expect(acked.length).toBeGreaterThan(10);
        const ids = acked.map((o) => o.res.json<{ id: number }>().id);
        const rows = await check.query<{ id: string | number; date: string }>(
          `select id, to_char(date, 'YYYY-MM-DD') as date from journal_entries where id = any($1)`,
          [ids],
        );
        const stored = new Map(rows.rows.map((r) => [Number(r.id), r.date]));
        for (const o of acked) expect(stored.get(o.res.json<{ id: number }>().id)).toBe(o.date);

        // Every reset token that exists was mailed exactly once; every acknowledged request has its token.
        const ackedResets = outcomes.filter((o) => o.kind === 'reset' && o.res.statusCode === 200);
        expect(ackedResets.length).toBeGreaterThan(1);
        await d.settled();
        const tokens = await check.query<{ token_hash: string; email: string }>(
          `select t.token_hash, u.email from password_reset_tokens t join users u on u.id = t.user_id`,
        );
        const links = smtp.inbox
          .map((m) => /reset-password\?token=([\w-]+)/.exec(m.text)?.[1])
          .filter((x): x is string => !!x)
          .map((token) => createHash('sha256').update(token).digest('hex'));
        expect(duplicates(links)).toEqual([]);
        expect(links.sort()).toEqual(tokens.rows.map((r) => r.token_hash).sort());
        for (const email of new Set(ackedResets.map((o) => o.email!))) {
          const acknowledged = ackedResets.filter((o) => o.email === email).length;
          expect(tokens.rows.filter((r) => r.email === email).length).toBeGreaterThanOrEqual(acknowledged);
        }
        expect(duplicates(delivered(smtp))).toEqual([]);
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
      },
    );
  },
);
