import { readFileSync } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobOutbox, jobScheduleRuns, sessions } from '../src/db/schema.js';
import { slotAfter, slotAtOrBefore } from '../src/modules/jobs/index.js';
import { createTestApp, createUserWithSession, registerCandidate, type TestApp } from './helpers/app.js';
import { rawRows } from './helpers/dump.js';

/**
 * Background jobs in-process (the embedded default, docs/operations.md#background-jobs): the outbox,
 * retries and give-up, the failed-job listing and retry, and clock schedules with a missed slot.
 * The worker process on BullMQ is tested in worker.test.ts.
 */
describe('background jobs run in the web process without a worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('a queued e-mail rests in the outbox sealed: no address, no link', async () => {
    await t.c.mailer.queue(t.c.db, 'password_reset', 'sealed.check@capaciti.org.za', {
      name: 'Sealed',
      link: 'http://localhost:5173/reset-password?token=secret-token-value',
    });
    const rows = await rawRows<{ job: string; payload: string }>(
      t.c.db,
      sql`select job, payload from job_outbox`,
    );
    expect(rows.map((r) => r.job)).toEqual(['email.send']);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain('sealed.check');
    expect(dump).not.toContain('secret-token-value');
    await t.c.jobs.idle();
    expect(t.c.mailer.sent.filter((m) => m.to === 'sealed.check@capaciti.org.za')).toHaveLength(1);
    expect(await t.c.db.select().from(jobOutbox)).toEqual([]);
  });

  it('a reset request is delivered once and leaves nothing behind', async () => {
    const user = await registerCandidate(t);
    const res = await t.request({
      method: 'POST',
      url: '/api/auth/password-reset/request/',
      payload: { email: user.email },
    });
    expect(res.statusCode).toBe(200);
    await t.c.jobs.idle();
    await t.c.jobs.idle();
    const mails = t.c.mailer.sent.filter((m) => m.to === user.email && m.template === 'password_reset');
    expect(mails).toHaveLength(1);
    expect(mails[0]!.text).toContain('reset-password?token=');
    expect(await t.c.db.select().from(jobOutbox)).toEqual([]);
  });

  it('a job enqueued in a transaction that rolls back never runs', async () => {
    const before = t.c.mailer.sent.length;
    await expect(
      t.c.db.transaction(async (tx) => {
        await t.c.mailer.queue(tx, 'welcome', 'rolled.back@capaciti.org.za', {
          name: 'R',
          loginUrl: 'http://x',
        });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await t.c.jobs.idle();
    expect(t.c.mailer.sent.length).toBe(before);
    expect(await t.c.db.select().from(jobOutbox)).toEqual([]);
  });

  it('an e-mail is part of the change that causes it: when its job cannot be written, nothing is committed', async () => {
    // The outbox refuses writes (a full disk, a lost connection at that statement…).
    await t.c.db.execute(sql`create function refuse_outbox() returns trigger language plpgsql as $$
      begin raise exception 'outbox unavailable'; end $$`);
    await t.c.db.execute(
      sql`create trigger refuse_outbox before insert on job_outbox for each row execute function refuse_outbox()`,
    );
    const email = `outbox.${Date.now().toString(36)}@capaciti.org.za`;
    const body = { email, password: 'Tq9!Vb7#Lm4$Xz2k', first_name: 'Out', last_name: 'Box' };
    try {
      const refused = await t.request({ method: 'POST', url: '/api/auth/register/', payload: body });
      expect(refused.statusCode).toBeGreaterThanOrEqual(500);
      // No account without its welcome e-mail: the registration did not happen.
      const [row] = await rawRows<{ n: number }>(
        t.c.db,
        sql`select count(*)::int as n from users where email = ${email}`,
      );
      expect(row?.n).toBe(0);
    } finally {
      await t.c.db.execute(sql`drop trigger refuse_outbox on job_outbox`);
      await t.c.db.execute(sql`drop function refuse_outbox()`);
    }
    const accepted = await t.request({ method: 'POST', url: '/api/auth/register/', payload: body });
    expect(accepted.statusCode).toBe(201);
    await t.c.jobs.idle();
    expect(t.c.mailer.sent.filter((m) => m.to === email && m.template === 'welcome')).toHaveLength(1);
  });

  it('a payload altered at rest is refused (kept for a retry), and does not hold up the others', async () => {
    await t.c.mailer.queue(t.c.db, 'welcome', 'first@capaciti.org.za', { name: 'F', loginUrl: 'http://x' });
    const [row] = await t.c.db.select().from(jobOutbox);
    await t.c.mailer.queue(t.c.db, 'welcome', 'other@capaciti.org.za', { name: 'O', loginUrl: 'http://x' });
    await t.c.db
      .update(jobOutbox)
      .set({ payload: `${row!.payload!.slice(0, -4)}AAAA` })
      .where(eq(jobOutbox.id, row!.id));
    await t.c.jobs.idle();
    const left = await t.c.db.select().from(jobOutbox);
    expect(left.map((r) => [r.id, r.attempts, r.lastError])).toEqual([
      [row!.id, 1, 'ciphertext could not be decrypted'],
    ]);
    expect(t.c.mailer.sent.filter((m) => m.to === 'first@capaciti.org.za')).toHaveLength(0);
    expect(t.c.mailer.sent.filter((m) => m.to === 'other@capaciti.org.za')).toHaveLength(1);
    await t.c.db.delete(jobOutbox);
  });
});

describe('a job that keeps failing is retried, given up, listed and can be retried', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      EMAIL_BACKEND: 'smtp',
      EMAIL_HOST: '127.0.0.1',
      EMAIL_PORT: '9',
      EMAIL_USE_TLS: 'false',
      EMAIL_MAX_RETRIES: '2',
      EMAIL_RETRY_DELAY_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('three attempts, then failed; superusers see it without the address; candidates do not', async () => {
    const admin = await createUserWithSession(t, 'superuser');
    const candidate = await createUserWithSession(t, 'candidate');
    t.c.mailer.send('password_changed', 'thandi.nkosi@capaciti.org.za', { name: 'Thandi', at: 'now' });
    await t.c.jobs.idle();
    const [row] = await t.c.db.select().from(jobOutbox);
    expect(row).toMatchObject({ job: 'email.send', attempts: 3 });
    expect(row!.failedAt).toBeInstanceOf(Date);

    const listed = await t.request({ method: 'GET', url: '/api/admin/jobs/failed/', token: admin.access });
    expect(listed.statusCode).toBe(200);
    const body = listed.json<{
      count: number;
      results: { id: string; job: string; attempts: number; reason: string }[];
    }>();
    expect(body.count).toBe(1);
    expect(body.results[0]).toMatchObject({ id: String(row!.id), job: 'email.send', attempts: 3 });
    expect(body.results[0]!.reason.length).toBeGreaterThan(0);
    expect(listed.body).not.toContain('thandi');
    expect(
      (await t.request({ method: 'GET', url: '/api/admin/jobs/failed/', token: candidate.access }))
        .statusCode,
    ).toBe(403);
    expect((await t.request({ method: 'GET', url: '/api/admin/jobs/failed/' })).statusCode).toBe(401);

    const metrics = await t.c.metrics.registry.metrics();
    expect(metrics).toContain('jobs_total{job="email.send",outcome="retry"} 2');
    expect(metrics).toContain('jobs_total{job="email.send",outcome="failure"} 1');
    expect(metrics).toContain('emails_total{template="password_changed",outcome="failed"} 3');
    expect(metrics).toContain('jobs_queue_depth{state="failed"} 1');
    expect(metrics).toContain('jobs_queue_depth{state="outbox"} 0');

    const retried = await t.request({
      method: 'POST',
      url: `/api/admin/jobs/failed/${String(row!.id)}/retry/`,
      token: admin.access,
    });
    expect(retried.statusCode).toBe(202);
    await t.c.jobs.idle();
    const [again] = await t.c.db.select().from(jobOutbox);
    expect(again).toMatchObject({ id: row!.id, attempts: 3 });
    expect(again!.failedAt).toBeInstanceOf(Date);
    expect(await t.c.metrics.registry.metrics()).toContain(
      'emails_total{template="password_changed",outcome="failed"} 6',
    );
    expect(
      (await t.request({ method: 'POST', url: '/api/admin/jobs/failed/999999/retry/', token: admin.access }))
        .statusCode,
    ).toBe(404);
  });
});

describe('schedules by the clock', () => {
  it('every job the service defines is in the job table of docs/operations.md', async () => {
    const table = readFileSync('docs/operations.md', 'utf8');
    const t = await createTestApp({ KEY_BACKUP_DIR: '/nonexistent/key-backups' });
    try {
      const names = [...t.c.scheduledJobs.map((j) => j.name), ...Object.keys(t.c.jobHandlers)];
      expect(names).toContain('keys.backup');
      for (const name of names)
        expect(table, name).toMatch(new RegExp(`^\\| \`${name.replaceAll('.', '\\.')}\` +\\|`, 'm'));
    } finally {
      await t.close();
    }
  });

  it('slots are read in TIME_ZONE: 02:00 in Johannesburg is 00:00 UTC', () => {
    const at = new Date('2026-12-07T05:30:00Z');
    expect(slotAtOrBefore('0 2 * * *', 'Africa/Johannesburg', at).toISOString()).toBe(
      '2026-12-07T00:00:00.000Z',
    );
    expect(slotAfter('0 2 * * *', 'Africa/Johannesburg', at).toISOString()).toBe('2026-12-08T00:00:00.000Z');
    expect(slotAtOrBefore('0 * * * *', 'Africa/Johannesburg', at).toISOString()).toBe(
      '2026-12-07T05:00:00.000Z',
    );
  });

  it('a daily job whose slot passed while the service was down runs at start, once', async () => {
    const t = await createTestApp();
    try {
      const user = await createUserWithSession(t, 'candidate');
      const longAgo = new Date(Date.now() - 60 * 86_400_000);
      await t.c.db.update(sessions).set({ expiresAt: longAgo }).where(eq(sessions.userId, user.id));
      // The last completed 02:00 run was three days ago: today's slot was missed.
      const missed = slotAtOrBefore('0 2 * * *', t.c.config.timeZone, new Date(Date.now() - 3 * 86_400_000));
      await t.c.db
        .insert(jobScheduleRuns)
        .values({ job: 'sessions.cleanup', lastSlot: missed, finishedAt: missed });
      await t.c.jobs.start();
      const today = slotAtOrBefore('0 2 * * *', t.c.config.timeZone, new Date()).toISOString();
      const lastSlot = async () =>
        (
          await t.c.db.select().from(jobScheduleRuns).where(eq(jobScheduleRuns.job, 'sessions.cleanup'))
        )[0]?.lastSlot.toISOString();
      // The run deletes the sessions, then records its slot: wait for both.
      const deadline = Date.now() + 10_000;
      while (
        (await t.c.db.select().from(sessions).where(eq(sessions.userId, user.id))).length > 0 ||
        (await lastSlot()) !== today
      ) {
        if (Date.now() > deadline)
          throw new Error('the missed cleanup did not run, or did not record its slot');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await lastSlot()).toBe(today);
      await t.c.jobs.idle();
      const metrics = await t.c.metrics.registry.metrics();
      expect(metrics).toContain('jobs_total{job="sessions.cleanup",outcome="success"} 1');
    } finally {
      await t.close();
    }
  });
});
