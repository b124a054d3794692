import { type SQL, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeCompletedRequests } from '../src/modules/privacy/deletion/service.js';
import { retentionCommands } from '../src/modules/privacy/retention/cli.js';
import { runCommand } from './helpers/cli.js';
import { retentionJobs } from '../src/modules/privacy/retention/jobs.js';
import {
  cancelInactivitySchedule,
  runInactiveAccounts,
  type InactiveRunOptions,
} from '../src/modules/privacy/retention/inactive-accounts.js';
import { cleanupSessions } from '../src/modules/privacy/retention/session-cleanup.js';
import {
  createTestApp,
  createUserWithSession,
  openSession,
  registerCandidate,
  STRONG_PASSWORD,
  type TestApp,
  type TestUser,
  uniqueEmail,
} from './helpers/app.js';

/**
 * Retention (spec privacy.md §5, operations.md §3–4): the inactive-account process with a
 * controlled clock (schedule, first and final warning once each, erasure only with execute),
 * exemptions, login cancelling a schedule, clean-up of ended sessions, the CLI and the jobs.
 */

let t: TestApp;
let admin: TestUser;
let candidate: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await createUserWithSession(t, 'admin');
  candidate = await registerCandidate(t);
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;
const DAY = 86_400;

async function rows<T = Json>(query: SQL): Promise<T[]> {
  const result: unknown = await t.c.db.execute(query);
  return (result as { rows: T[] }).rows;
}

/** A fresh staff token (the clock moves by days in this file; access tokens live 15 minutes). */
const staffToken = async () => (await openSession(t, admin.id)).access;
const get = async (url: string, token?: string) =>
  t.request({ method: 'GET', url, token: token ?? (await staffToken()) });
const post = async (url: string, payload?: unknown, token?: string) =>
  t.request({
    method: 'POST',
    url,
    token: token ?? (await staffToken()),
    ...(payload === undefined ? {} : { payload: payload as Json }),
  });

const run = (opts: Partial<InactiveRunOptions> = {}) =>
  runInactiveAccounts(t.c, {
    inactiveYears: 2,
    graceDays: 30,
    dryRun: false,
    sendWarnings: true,
    execute: false,
    ...opts,
  });

/** Last sign-in and every session's activity `years` (× 365 days) and a day before now. */
async function makeInactive(userId: number, years = 3, opts: { keepSessions?: boolean } = {}) {
  const past = new Date(t.c.now().getTime() - (years * 365 + 1) * DAY * 1000).toISOString();
  await t.c.db.execute(
    sql`update users set last_login = ${past}::timestamptz, date_joined = ${past}::timestamptz where id = ${userId}`,
  );
  if (!opts.keepSessions) {
    await t.c.db.execute(
      sql`update sessions set last_activity = ${past}::timestamptz, created_at = ${past}::timestamptz where user_id = ${userId}`,
    );
  }
}

/** A candidate account that never signed in, joined `years` ago (no session at all). */
async function neverSignedIn(years = 3) {
  const email = uniqueEmail('never');
  const user = await t.c.db.transaction((tx) =>
    t.c.auth.createAccount(tx, {
      email,
      password: STRONG_PASSWORD,
      firstName: 'Never',
      lastName: 'Seen',
      role: 'candidate',
    }),
  );
  const past = new Date(t.c.now().getTime() - (years * 365 + 1) * DAY * 1000).toISOString();
  await t.c.db.execute(sql`update users set date_joined = ${past}::timestamptz where id = ${user.id}`);
  return { id: user.id, email };
}

async function scheduleOf(userId: number): Promise<Json | undefined> {
  const [row] = await rows(sql`select * from account_deletion_schedules where user_id = ${userId}`);
  return row;
}

async function mails(template: string, to?: string) {
  await t.c.jobs.idle();
  return t.c.mailer.sent.filter((m) => m.template === template && (to === undefined || m.to === to));
}

const SCHEDULE_KEYS = [
  'id',
  'user',
  'user_email',
  'scheduled_deletion_date',
  'first_warning_sent',
  'second_warning_sent',
  'exempted',
  'exemption_reason',
  'days_until_deletion',
  'created_at',
  'updated_at',
];

describe('retention routes are for staff', () => {
  it('candidates get 403 on the schedule routes; no token gets 401', async () => {
    for (const [method, url] of [
      ['GET', '/api/popia/retention/schedules/'],
      ['POST', '/api/popia/retention/schedules/1/exempt/'],
      ['POST', '/api/popia/retention/schedules/1/unexempt/'],
    ] as const) {
      const res = await t.request({
        method,
        url,
        token: candidate.access,
        payload: method === 'POST' ? { reason: 'x' } : undefined,
      });
      expect(res.statusCode, url).toBe(403);
      expect(res.json()).toMatchObject({
        detail: 'You do not have permission to perform this action.',
        error: 'You do not have permission to perform this action.',
      });
      expect((await t.request({ method, url })).statusCode).toBe(401);
    }
  });
});

describe('the inactive-account process', () => {
  let gone: TestUser; // inactive by last_login and session activity
  let never: { id: number; email: string }; // never signed in, joined long ago
  let backViaSession: TestUser; // old last_login, but used a session recently
  let staffIdle: TestUser; // inactive admin: excluded role
  let deactivated: TestUser; // inactive but deactivated: not active, so not found

  it('finds users by last activity (sign-in, session use, else joining); a dry run changes nothing', async () => {
    gone = await registerCandidate(t);
    await makeInactive(gone.id);
    never = await neverSignedIn();
    backViaSession = await registerCandidate(t);
    await makeInactive(backViaSession.id, 3, { keepSessions: true });
    staffIdle = await createUserWithSession(t, 'admin');
    await makeInactive(staffIdle.id);
    deactivated = await registerCandidate(t);
    await makeInactive(deactivated.id);
    await t.c.db.execute(sql`update users set is_active = false where id = ${deactivated.id}`);

    const dry = await run({ dryRun: true, execute: true });
    expect(dry).toMatchObject({ found: 2, scheduled: 2, warned: 0, erased: 0, overdue: 0 });
    expect(await rows(sql`select * from account_deletion_schedules`)).toEqual([]);
    expect(await mails('inactive_first_warning')).toEqual([]);
  });

  it('creates schedules (now + grace) and sends the first warning once', async () => {
    const started = t.c.now().getTime();
    const first = await run();
    expect(first).toMatchObject({ found: 2, scheduled: 2, warned: 2, erased: 0, overdue: 0 });
    for (const id of [gone.id, never.id]) {
      const schedule = await scheduleOf(id);
      expect(new Date(schedule!.scheduled_deletion_date as string).getTime() - started).toBe(30 * DAY * 1000);
      expect(schedule!.first_warning_sent).not.toBeNull();
      expect(schedule!.second_warning_sent).toBeNull();
    }
    for (const id of [backViaSession.id, staffIdle.id, deactivated.id])
      expect(await scheduleOf(id)).toBeUndefined();

    const warning = await mails('inactive_first_warning', gone.email);
    expect(warning).toHaveLength(1);
    expect(warning[0]!.subject).toBe('Your PSS Account Will Be Deleted in 30 Days');
    expect(warning[0]!.text).toContain(`${t.c.config.frontendUrl}/login`);
    expect(warning[0]!.text).toContain('2 years');
    expect(warning[0]!.text).toContain('journal entries');
    expect(warning[0]!.text).toContain('Personal Support System');
    expect(await mails('inactive_first_warning', never.email)).toHaveLength(1);

    const again = await run();
    expect(again).toMatchObject({ found: 2, scheduled: 0, warned: 0 });
    expect(await mails('inactive_first_warning', gone.email)).toHaveLength(1);
  });

  it('lists the schedules for staff with days until deletion', async () => {
    const res = await get('/api/popia/retention/schedules/');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ count: 2, next: null, previous: null });
    expect(Object.keys(body.results[0])).toEqual(SCHEDULE_KEYS);
    const mine = body.results.find((s: Json) => s.user === gone.id);
    expect(mine).toMatchObject({
      user_email: gone.email,
      exempted: false,
      exemption_reason: '',
      second_warning_sent: null,
      days_until_deletion: 30,
    });
    expect(mine.first_warning_sent).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    const paged = await get('/api/popia/retention/schedules/?page_size=1');
    expect(paged.json()).toMatchObject({ count: 2 });
    expect(paged.json().results).toHaveLength(1);
    expect(paged.json().next).toContain('page=2');
  });

  it('sends the final warning at 7 days left, once', async () => {
    t.clock.advance(23 * DAY);
    const res = await run();
    expect(res).toMatchObject({ scheduled: 0, warned: 2, erased: 0, overdue: 0 });
    const final = await mails('inactive_final_warning', gone.email);
    expect(final).toHaveLength(1);
    expect(final[0]!.subject).toBe('⚠️ FINAL WARNING: Your PSS Account Will Be Deleted in 7 Days');
    expect(final[0]!.text).toContain('7 days');
    expect(final[0]!.text).toContain(`${t.c.config.frontendUrl}/login`);
    expect((await scheduleOf(gone.id))!.second_warning_sent).not.toBeNull();
    expect(await run()).toMatchObject({ warned: 0 });
    expect(await mails('inactive_final_warning', gone.email)).toHaveLength(1);
    expect(await mails('inactive_first_warning', gone.email)).toHaveLength(1);
    const listed = (await get('/api/popia/retention/schedules/'))
      .json()
      .results.find((s: Json) => s.user === gone.id);
    expect(listed.days_until_deletion).toBe(7);
  });

  it('staff exempt a schedule (reason required) and lift the exemption', async () => {
    const schedule = await scheduleOf(never.id);
    const url = `/api/popia/retention/schedules/${Number(schedule!.id)}/exempt/`;
    const missing = await post(url, {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({
      code: 'validation_error',
      errors: { reason: ['This field is required.'] },
    });
    const blank = await post(url, { reason: '  ' });
    expect(blank.json().errors).toEqual({ reason: ['This field may not be blank.'] });
    expect((await post('/api/popia/retention/schedules/99999999/exempt/', { reason: 'x' })).statusCode).toBe(
      404,
    );
    expect((await post('/api/popia/retention/schedules/99999999/unexempt/')).statusCode).toBe(404);

    const res = await post(url, { reason: 'Long-term medical leave' });
    expect(res.statusCode, res.body).toBe(200);
    expect(Object.keys(res.json())).toEqual(SCHEDULE_KEYS);
    expect(res.json()).toMatchObject({
      id: Number(schedule!.id),
      user: never.id,
      exempted: true,
      exemption_reason: 'Long-term medical leave',
      days_until_deletion: null,
    });
    const [audit] = await rows(
      sql`select * from audit_log where action = 'retention_exempted' and subject_user_id = ${never.id}`,
    );
    expect(Number(audit!.actor_id)).toBe(admin.id);

    const lifted = await post(`/api/popia/retention/schedules/${Number(schedule!.id)}/unexempt/`);
    expect(lifted.statusCode).toBe(200);
    expect(lifted.json()).toMatchObject({ exempted: false, exemption_reason: '', days_until_deletion: 7 });
    // Exempt again for the next step.
    expect((await post(url, { reason: 'Long-term medical leave' })).statusCode).toBe(200);
  });

  it('past the date: erases only with execute (never a dry run, never an exempt account)', async () => {
    t.clock.advance(8 * DAY);
    const without = await run();
    expect(without).toMatchObject({ overdue: 1, erased: 0 });
    const dry = await run({ dryRun: true, execute: true });
    expect(dry).toMatchObject({ overdue: 1, erased: 0 });
    expect((await rows(sql`select anonymized_at from users where id = ${gone.id}`))[0]).toEqual({
      anonymized_at: null,
    });

    const executed = await run({ execute: true });
    expect(executed).toMatchObject({ overdue: 1, erased: 1 });
    const [user] = await rows(sql`select email, is_active, anonymized_at from users where id = ${gone.id}`);
    expect(user).toMatchObject({ email: `deleted_${gone.id}@deleted.local`, is_active: false });
    expect(user!.anonymized_at).not.toBeNull();
    expect(await rows(sql`select * from data_keys where user_id = ${gone.id}`)).toEqual([]);
    expect(await scheduleOf(gone.id)).toBeUndefined();
    // The proof of the erasure, as for a request.
    const [proof] = await rows(
      sql`select status, deletion_proof from data_deletion_requests where user_id = ${gone.id}`,
    );
    expect(proof).toMatchObject({
      status: 'completed',
      deletion_proof: { user_id: gone.id, key_destroyed: true },
    });

    const notice = await mails('account_deleted', gone.email);
    expect(notice).toHaveLength(1);
    expect(notice[0]!.subject).toBe('Your PSS Account Has Been Deleted');
    expect(notice[0]!.text).toContain(`${t.c.config.frontendUrl}/register`);
    expect(notice[0]!.text).toContain('journal entries');

    // The exempt account is untouched; nothing is left to erase.
    expect((await rows(sql`select anonymized_at from users where id = ${never.id}`))[0]).toEqual({
      anonymized_at: null,
    });
    expect(await run({ execute: true })).toMatchObject({ overdue: 0, erased: 0 });
  });
});

describe('a returning user leaves the process', () => {
  it('cancelInactivitySchedule removes a non-exempt schedule, keeps an exempt one', async () => {
    const user = await registerCandidate(t);
    await makeInactive(user.id);
    await run({ sendWarnings: false });
    expect(await scheduleOf(user.id)).toBeDefined();
    expect(await cancelInactivitySchedule(t.c.db, user.id)).toBe(true);
    expect(await scheduleOf(user.id)).toBeUndefined();
    expect(await cancelInactivitySchedule(t.c.db, user.id)).toBe(false);

    const exempt = await registerCandidate(t);
    await makeInactive(exempt.id);
    await run({ sendWarnings: false });
    await t.c.db.execute(
      sql`update account_deletion_schedules set exempted = true where user_id = ${exempt.id}`,
    );
    expect(await cancelInactivitySchedule(t.c.db, exempt.id)).toBe(false);
    expect(await scheduleOf(exempt.id)).toMatchObject({ exempted: true });
  });

  it('a schedule is dropped when the user used a session since it was made', async () => {
    const user = await registerCandidate(t);
    await makeInactive(user.id);
    await run({ sendWarnings: false });
    expect(await scheduleOf(user.id)).toBeDefined();
    t.clock.advance(60);
    await t.c.db.execute(
      sql`update sessions set last_activity = ${t.c.now().toISOString()}::timestamptz where user_id = ${user.id}`,
    );
    const res = await run({ sendWarnings: false });
    expect(res.cancelled).toBeGreaterThanOrEqual(1);
    expect(await scheduleOf(user.id)).toBeUndefined();
  });

  // The login flow (src/modules/auth/sign-in/login-completion.ts) calls cancelInactivitySchedule
  // through its onSignedIn hook, wired in src/services.ts.
  it('a successful login deletes the user’s non-exempt schedule', async () => {
    const user = await registerCandidate(t);
    await makeInactive(user.id);
    await run({ sendWarnings: false });
    expect(await scheduleOf(user.id)).toBeDefined();
    const login = await t.request({
      method: 'POST',
      url: '/api/auth/login/',
      payload: { email: user.email, password: user.password },
    });
    expect(login.statusCode, login.body).toBe(200);
    expect(await scheduleOf(user.id)).toBeUndefined();
  });
});

describe('clean-up of ended sessions and reset tokens', () => {
  it('deletes sessions expired or terminated more than N days ago, and old used/expired reset tokens', async () => {
    const user = await registerCandidate(t);
    const now = t.c.now().getTime();
    const ago = (days: number) => new Date(now - days * DAY * 1000).toISOString();
    // Sessions: the registration's, then a live one, an expired, a terminated and a recently ended one.
    for (let i = 0; i < 4; i += 1) await openSession(t, user.id);
    const ids = await rows<{ id: string }>(
      sql`select id from sessions where user_id = ${user.id} order by id`,
    );
    const [, , expiredId, terminatedId, recentId] = ids.map((r) => Number(r.id));
    await t.c.db.execute(
      sql`update sessions set expires_at = ${ago(10)}::timestamptz where id = ${expiredId}`,
    );
    await t.c.db.execute(
      sql`update sessions set terminated_at = ${ago(8)}::timestamptz, terminated_reason = 'logout' where id = ${terminatedId}`,
    );
    await t.c.db.execute(
      sql`update sessions set terminated_at = ${ago(2)}::timestamptz, terminated_reason = 'logout' where id = ${recentId}`,
    );
    await t.c.db.execute(sql`
      insert into password_reset_tokens (user_id, token_hash, created_at, expires_at, used, used_at) values
        (${user.id}, ${'a'.repeat(64)}, ${ago(9)}::timestamptz, ${ago(9)}::timestamptz, true, ${ago(9)}::timestamptz),
        (${user.id}, ${'b'.repeat(64)}, ${ago(20)}::timestamptz, ${ago(19)}::timestamptz, false, null),
        (${user.id}, ${'c'.repeat(64)}, ${ago(1)}::timestamptz, ${ago(1)}::timestamptz, true, ${ago(1)}::timestamptz)`);

    const dry = await cleanupSessions(t.c, { days: 7, dryRun: true });
    expect(dry.sessions).toBeGreaterThanOrEqual(2);
    expect(dry.reset_tokens).toBeGreaterThanOrEqual(2);
    expect(await rows(sql`select id from sessions where user_id = ${user.id}`)).toHaveLength(5);

    const done = await cleanupSessions(t.c, { days: 7, dryRun: false });
    expect(done).toEqual(dry);
    const left = (
      await rows<{ id: string }>(sql`select id from sessions where user_id = ${user.id} order by id`)
    ).map((r) => Number(r.id));
    expect(left).not.toContain(expiredId);
    expect(left).not.toContain(terminatedId);
    expect(left).toContain(recentId);
    expect(left).toHaveLength(3);
    expect(
      (
        await rows<{ token_hash: string }>(
          sql`select token_hash from password_reset_tokens where user_id = ${user.id}`,
        )
      ).map((r) => r.token_hash),
    ).toEqual(['c'.repeat(64)]);
    expect(await cleanupSessions(t.c, { days: 7, dryRun: false })).toEqual({ sessions: 0, reset_tokens: 0 });
  });

  it('the 02:00 job deletes old sessions only, the 04:00 reset-tokens.purge old reset tokens only', async () => {
    const user = await registerCandidate(t);
    const ago = (days: number) => new Date(t.c.now().getTime() - days * DAY * 1000).toISOString();
    await t.c.db.execute(
      sql`update sessions set expires_at = ${ago(10)}::timestamptz where user_id = ${user.id}`,
    );
    await t.c.db.execute(sql`
      insert into password_reset_tokens (user_id, token_hash, created_at, expires_at, used, used_at) values
        (${user.id}, ${'d'.repeat(64)}, ${ago(9)}::timestamptz, ${ago(9)}::timestamptz, true, ${ago(9)}::timestamptz)`);
    const jobs = retentionJobs(t.c);
    const sessionsJob = jobs.find((j) => j.name === 'sessions.cleanup')!;
    const tokensJob = jobs.find((j) => j.name === 'reset-tokens.purge')!;
    expect(await sessionsJob.run()).toMatchObject({ reset_tokens: 0 });
    expect(await rows(sql`select id from sessions where user_id = ${user.id}`)).toHaveLength(0);
    expect(await rows(sql`select id from password_reset_tokens where user_id = ${user.id}`)).toHaveLength(1);
    expect(await tokensJob.run()).toMatchObject({ sessions: 0, reset_tokens: 1 });
    expect(await rows(sql`select id from password_reset_tokens where user_id = ${user.id}`)).toHaveLength(0);
  });
});

describe('completed requests are purged after their retention date', () => {
  it('deletes completed requests past retention_until only', async () => {
    const past = new Date(t.c.now().getTime() - DAY * 1000).toISOString();
    const future = new Date(t.c.now().getTime() + DAY * 1000).toISOString();
    const [old] = await rows<{ id: string }>(
      sql`insert into data_deletion_requests (user_id, status, completed_at, retention_until) values (999001, 'completed', ${past}::timestamptz, ${past}::timestamptz) returning id`,
    );
    const [kept] = await rows<{ id: string }>(
      sql`insert into data_deletion_requests (user_id, status, completed_at, retention_until) values (999002, 'completed', ${past}::timestamptz, ${future}::timestamptz) returning id`,
    );
    const res = await purgeCompletedRequests(t.c);
    expect(res.purged).toBe(1);
    expect(await rows(sql`select id from data_deletion_requests where id = ${old!.id}`)).toEqual([]);
    expect(await rows(sql`select id from data_deletion_requests where id = ${kept!.id}`)).toHaveLength(1);
  });
});

describe('CLI and jobs', () => {
  async function cli(name: string, args: string[]) {
    const r = await runCommand(retentionCommands, name, args, async () => t.c);
    return { code: r.code, out: r.out + r.err };
  }

  it('retention:inactive-accounts prints the counts; exempt and unexempt work by e-mail', async () => {
    const user = await registerCandidate(t);
    await makeInactive(user.id);
    const dry = await cli('retention:inactive-accounts', ['--dry-run', '--no-warnings']);
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/found: \d+\nscheduled: \d+\nwarned: 0\nerased: 0\noverdue: \d+\n/);
    expect(await scheduleOf(user.id)).toBeUndefined();

    const exempt = await cli('retention:exempt', [
      '--email',
      user.email.toUpperCase(),
      '--reason',
      'Staff request',
    ]);
    expect(exempt.code).toBe(0);
    expect(await scheduleOf(user.id)).toMatchObject({ exempted: true, exemption_reason: 'Staff request' });
    const [audit] = await rows(
      sql`select actor_id, actor_role from audit_log where action = 'retention_exempted' and subject_user_id = ${user.id}`,
    );
    expect(audit).toEqual({ actor_id: null, actor_role: 'system' });
    const real = await cli('retention:inactive-accounts', ['--inactive-years', '2', '--grace-days', '30']);
    expect(real.code).toBe(0);
    expect(await scheduleOf(user.id)).toMatchObject({ exempted: true, first_warning_sent: null });

    expect((await cli('retention:unexempt', ['--email', user.email])).code).toBe(0);
    expect(await scheduleOf(user.id)).toMatchObject({ exempted: false, exemption_reason: '' });
    expect((await cli('retention:unexempt', ['--email', 'nobody@capaciti.org.za'])).code).toBe(1);
    expect((await cli('retention:exempt', ['--email', user.email])).code).toBe(2);
    expect((await cli('retention:inactive-accounts', ['--grace-days', 'soon'])).code).toBe(2);
  });

  it('sessions:cleanup and deletion:run-due print what they did', async () => {
    const cleanup = await cli('sessions:cleanup', ['--days', '7', '--dry-run']);
    expect(cleanup.code).toBe(0);
    expect(cleanup.out).toMatch(/^would delete: \d+ sessions, \d+ reset tokens\n$/);
    const due = await cli('deletion:run-due', []);
    expect(due.code).toBe(0);
    expect(due.out).toBe('due: 0\nerased: 0\nfailed: 0\n');
  });

  it('declares the five jobs; retention.inactive erases only when INACTIVE_ACCOUNT_CLEANUP_EXECUTE is on', async () => {
    const jobs = retentionJobs(t.c);
    // docs/operations.md#scheduled-jobs: hourly, 03:00, 02:00 and 04:00 (twice) in TIME_ZONE.
    expect(jobs.map((j) => [j.name, j.schedule])).toEqual([
      ['deletion.run-due', { cron: '0 * * * *' }],
      ['retention.inactive', { cron: '0 3 * * *' }],
      ['sessions.cleanup', { cron: '0 2 * * *' }],
      ['reset-tokens.purge', { cron: '0 4 * * *' }],
      ['deletion-requests.purge', { cron: '0 4 * * *' }],
    ]);
    expect(t.c.config.retention.inactiveCleanupExecute).toBe(false);
    const user = await registerCandidate(t);
    await makeInactive(user.id);
    await run({ sendWarnings: false });
    t.clock.advance(31 * DAY);
    const result = await jobs.find((j) => j.name === 'retention.inactive')!.run();
    expect(result).toMatchObject({ erased: 0 });
    expect(result!.overdue).toBeGreaterThanOrEqual(1);
    expect((await rows(sql`select anonymized_at from users where id = ${user.id}`))[0]).toEqual({
      anonymized_at: null,
    });
  });
});
