import { randomBytes } from 'node:crypto';
import { asc, count, eq, isNotNull, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createContainer, type Container } from '../src/container.js';
import { openDatabase, type Database, type DbOrTx } from '../src/db/client.js';
import { auditCheckpoints, auditLog } from '../src/db/schema.js';
import { auditJobs } from '../src/modules/audit/index.js';
import { chainKey, entryMac } from '../src/modules/audit/chain-mac.js';
import { createChainRepo } from '../src/modules/audit/chain-repo.js';
import { recordAudit } from '../src/modules/audit/recorder.js';
import { testClock } from './helpers/app.js';
import { freshDatabase } from './helpers/database.js';
import { testConfig } from './helpers/env.js';
import { runCli, sealUntil } from './helpers/audit.js';

/**
 * Audit without a global lock (issue 11, docs/privacy.md#append-only-chain): writers insert their
 * entries unsealed, in their own transaction and without waiting for each other; the sealer chains
 * committed entries afterwards with a key the database does not hold, and signs checkpoints.
 */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

let database: Database;
let url: string | undefined;
let drop: () => Promise<void>;
let c: Container;
let other: Container;
const clock = testClock();
const config = testConfig();

beforeAll(async () => {
  ({ database, url, drop } = await freshDatabase());
  c = await createContainer(config, { database, clock, migrate: false });
  // A second instance of the service on the same database (its own sealer).
  other = await createContainer(config, { database, clock, migrate: false });
});
afterAll(async () => {
  await other.close();
  await c.close();
  await drop();
});

const write = (db: DbOrTx, action: string, resourceId?: number) =>
  recordAudit(
    db,
    { actor: null, meta: null },
    { action, resourceType: 'test', resourceId: resourceId ?? null },
  );
const entriesOf = (action: string) =>
  database.db.select().from(auditLog).where(eq(auditLog.action, action)).orderBy(asc(auditLog.id));
const sealAll = () => sealUntil(c);
const verify = () => c.auditChain.verify();
const unsealedCount = async () =>
  (await database.db.select({ n: count() }).from(auditLog).where(isNull(auditLog.seq)))[0]!.n;
/** The whole sealed chain, in seq order. */
const chain = () =>
  database.db
    .select({ id: auditLog.id, seq: auditLog.seq, prevHash: auditLog.prevHash, hash: auditLog.hash })
    .from(auditLog)
    .where(isNotNull(auditLog.seq))
    .orderBy(asc(auditLog.seq));
/** The database's own message (drizzle wraps it as the cause of its "Failed query" error). */
const failure = (query: PromiseLike<unknown>) =>
  Promise.resolve(query).then(
    () => 'succeeded',
    (err: unknown) => {
      const e = err as Error;
      return e.cause instanceof Error ? e.cause.message : e.message;
    },
  );
/** Runs SQL with the append-only trigger off, as someone holding the table's owner rights could. */
const tamper = (statements: string) =>
  database.exec(`alter table audit_log disable trigger audit_log_append_only;
    ${statements};
    alter table audit_log enable trigger audit_log_append_only;`);

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('writers do not wait for each other', () => {
  it.skipIf(!onPostgres)(
    '32 audited writes held open 100 ms each finish together, and every one is sealed after',
    async () => {
      // A pool wide enough for 32 concurrent transactions, connected before the clock starts.
      const wide = await openDatabase({ url: url!, poolMax: 40 });
      try {
        const all = (n: number, fn: (tx: DbOrTx, i: number) => Promise<void>) =>
          Promise.all(Array.from({ length: n }, (_, i) => wide.db.transaction((tx) => fn(tx, i))));
        await all(32, async (tx) => {
          await tx.execute(sql`select pg_sleep(0.02)`);
        });

        const started = performance.now();
        await all(32, async (tx, i) => {
          await write(tx, 'concurrent_write', i);
          await tx.execute(sql`select pg_sleep(0.1)`);
        });
        const ms = performance.now() - started;
        // One lock for every writer until commit (migrations/0004) made this at least 32 × 100 ms.
        expect(ms).toBeLessThan(1600);
      } finally {
        await wide.close();
      }

      const written = await entriesOf('concurrent_write');
      expect(written).toHaveLength(32);
      expect(written.every((e) => e.seq === null && e.hash === null)).toBe(true);
      const result = await sealAll();
      expect(result.sealed).toBeGreaterThanOrEqual(32);
      const sealed = await entriesOf('concurrent_write');
      expect(new Set(sealed.map((e) => e.seq)).size).toBe(32);
      expect(sealed.every((e) => e.seq !== null && e.chainScheme === 2)).toBe(true);
      const verdict = await verify();
      expect(verdict).toMatchObject({ ok: true, unsealed: { count: 0 } });
      expect(verdict.checked).toBe((await chain()).length);
    },
  );

  it.skipIf(!onPostgres)(
    'an entry whose transaction is open is not sealed; one committed before it is; it follows once committed',
    async () => {
      await sealAll();
      const early = deferred();
      const holdB = deferred();
      const release = deferred();
      let aId = 0;
      // T2 gets its transaction id first, then waits while T1 writes A and stays open.
      const t2 = database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_current_xact_id()`);
        early.resolve();
        await holdB.promise;
        await write(tx, 'committed_first');
      });
      await early.promise;
      const openA = deferred();
      const t1 = database.db.transaction(async (tx) => {
        await write(tx, 'open_longer');
        const [row] = await tx
          .select({ id: auditLog.id })
          .from(auditLog)
          .where(eq(auditLog.action, 'open_longer'));
        aId = row!.id;
        openA.resolve();
        await release.promise;
      });
      try {
        await openA.promise;
        holdB.resolve();
        await t2;
        // T3 starts after T1 and commits while T1 is still open.
        await write(database.db, 'committed_later');

        await sealUntil(c, async () => (await entriesOf('committed_first'))[0]!.seq !== null);
        const [b] = await entriesOf('committed_first');
        const [c3] = await entriesOf('committed_later');
        // Ids (sequence order) are not commit order: A has the smaller id, B committed first.
        expect(aId).toBeLessThan(b!.id);
        expect(b!.seq).not.toBeNull();
        // T3's transaction began after T1's: while T1 is open, it cannot be known to come after
        // everything T1 will commit, so it waits too.
        expect(c3!.id).toBeGreaterThan(b!.id);
        expect(c3!.seq).toBeNull();
        expect(await verify()).toMatchObject({ ok: true, unsealed: { count: 1 } });
      } finally {
        release.resolve();
        await t1;
      }
      await sealAll();
      const [a] = await entriesOf('open_longer');
      const [b] = await entriesOf('committed_first');
      const [c3] = await entriesOf('committed_later');
      expect(a!.id).toBe(aId);
      expect(a!.seq).toBe(b!.seq! + 1);
      expect(a!.prevHash).toBe(b!.hash);
      expect(c3!.seq).toBe(b!.seq! + 2);
      expect(await verify()).toMatchObject({ ok: true, unsealed: { count: 0 } });
    },
  );

  it('two sealers at once never fork the chain nor leave a gap', async () => {
    await sealAll();
    const before = await chain();
    for (let i = 0; i < 40; i += 1) await write(database.db, 'sealed_by_two', i);
    const results = await Promise.all([
      c.auditChain.seal({ wait: true, batchSize: 7 }),
      other.auditChain.seal({ wait: true, batchSize: 7 }),
      other.auditChain.seal({ wait: false, batchSize: 7 }),
    ]);
    // (What another test file's transaction held back, the next run seals.)
    const rest = await sealAll();
    expect(results.reduce((n, r) => n + r.sealed, rest.sealed)).toBe(40);
    const after = await chain();
    expect(after).toHaveLength(before.length + 40);
    after.forEach((link, i) => {
      if (i === 0) return;
      expect(link.seq).toBe(after[i - 1]!.seq! + 1);
      expect(link.prevHash).toBe(after[i - 1]!.hash);
    });
    const checkpoints = await database.db.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq));
    expect(checkpoints.at(-1)).toMatchObject({ seq: after.at(-1)!.seq, hash: after.at(-1)!.hash });
    expect((await verify()).ok).toBe(true);
  });
});

describe('audit:seal, audit:verify and the audit.seal job', () => {
  it('the job runs every 5 s and logs the new head; audit:seal seals what is left', async () => {
    const job = auditJobs(c).find((j) => j.name === 'audit.seal')!;
    expect(job.schedule).toEqual({ everyMs: 5000 });
    await write(database.db, 'sealed_by_job');
    let ran = await job.run();
    while (ran?.sealed === 0) ran = await job.run();
    const [entry] = await entriesOf('sealed_by_job');
    expect(ran).toEqual({ sealed: expect.any(Number), head_seq: entry!.seq, head_hash: entry!.hash });
    expect(await job.run()).toEqual({ sealed: 0 });

    await write(database.db, 'sealed_by_cli');
    let out = await runCli(c, 'audit:seal', []);
    while (out.text.startsWith('sealed 0 ')) out = await runCli(c, 'audit:seal', []);
    const [cli] = await entriesOf('sealed_by_cli');
    expect(out).toEqual({
      code: 0,
      text: `sealed 1 audit entries; the chain ends at seq ${String(cli!.seq)}\n`,
    });
  });

  it('audit:verify reports the unsealed entries and the age of the oldest', async () => {
    await sealAll();
    for (const action of ['waiting_1', 'waiting_2', 'waiting_3']) await write(database.db, action);
    clock.advance(90);
    const [oldest] = await entriesOf('waiting_1');
    const age = Math.floor((clock.now().getTime() - oldest!.at.getTime()) / 1000);
    expect(age).toBeGreaterThan(60);

    const result = await verify();
    expect(result).toMatchObject({ ok: true, unsealed: { count: 3, oldestAgeSeconds: age } });
    const [recorded] = await entriesOf('audit_verified').then((rows) => rows.slice(-1));
    expect(recorded!.metadata).toMatchObject({ unsealed: 3, oldest_unsealed_age_seconds: age });

    const n = (await chain()).length;
    const out = await runCli(c, 'audit:verify', []);
    expect(out.code).toBe(0);
    expect(out.text).toBe(
      `audit chain intact: ${String(n)} entries, last checkpoint at seq ${String(n)}\n` +
        `unsealed: 4 entries, the oldest ${String(age)} s old\n`,
    );
    const strict = await runCli(c, 'audit:verify', ['--max-unsealed-age', '60']);
    expect(strict.code).toBe(1);
    expect(strict.text).toContain('the oldest unsealed entry is older than 60 s');
    expect((await runCli(c, 'audit:verify', ['--max-unsealed-age', 'soon'])).code).toBe(2);

    await sealAll();
    expect(await unsealedCount()).toBe(0);
    expect((await verify()).unsealed).toEqual({ count: 0, oldestAgeSeconds: null });
  });
});

describe('the append-only triggers', () => {
  it('a new entry enters unsealed, stamped with its transaction, whatever the insert says', async () => {
    await database.db.insert(auditLog).values({
      action: 'forged_seal',
      resourceType: 'test',
      seq: 1_000_000,
      prevHash: 'a'.repeat(64),
      hash: 'b'.repeat(64),
      chainScheme: 1,
      xid: '3',
    });
    const [row] = await entriesOf('forged_seal');
    expect(row).toMatchObject({ seq: null, prevHash: null, hash: null, chainScheme: null });
    expect(BigInt(row!.xid!)).toBeGreaterThan(3n);
  });

  it('the sealer may set only the chain columns of an unsealed entry, with the keyed scheme', async () => {
    const [row] = await entriesOf('forged_seal');
    const tryUpdate = (set: string, id = row!.id, flag = true) =>
      failure(
        database.db.transaction(async (tx) => {
          if (flag) await tx.execute(sql`select set_config('pss.audit_seal', 'on', true)`);
          await tx.execute(sql.raw(`update audit_log set ${set} where id = ${String(id)}`));
          tx.rollback(); // never keep it: this only asks the trigger
        }),
      );
    const seal = `seq = 999999, hash = '${'c'.repeat(64)}', chain_scheme = 2`;
    expect(await tryUpdate(`${seal}, action = 'other'`)).toBe('audit_log is append-only');
    expect(await tryUpdate(`${seal}, metadata = '{"x": 1}'`)).toBe('audit_log is append-only');
    expect(await tryUpdate(`seq = 999999, hash = '${'c'.repeat(64)}', chain_scheme = 1`)).toBe(
      'audit_log is append-only',
    );
    expect(await tryUpdate(seal, row!.id, false)).toBe('audit_log is append-only');
    const [sealed] = await chain();
    expect(await tryUpdate(`hash = '${'c'.repeat(64)}'`, sealed!.id)).toBe('audit_log is append-only');
    // The sealer's own update goes through (rolled back here).
    expect(await tryUpdate(seal)).toBe('Rollback');
  });

  it('the purge flag deletes neither the head of the chain nor the last checkpoint', async () => {
    await sealAll();
    const head = (await chain()).at(-1)!;
    const asPurge = (statement: string) =>
      failure(
        database.db.transaction(async (tx) => {
          await tx.execute(sql`select set_config('pss.audit_purge', 'on', true)`);
          await tx.execute(sql.raw(statement));
        }),
      );
    expect(await asPurge(`delete from audit_log where seq = ${String(head.seq)}`)).toBe(
      'audit_log is append-only',
    );
    expect(await asPurge(`delete from audit_log where seq is null`)).toBe('succeeded'); // none: nothing unsealed
    await write(database.db, 'unsealed_kept');
    expect(await asPurge(`delete from audit_log where seq is null`)).toBe('audit_log is append-only');
    expect(await asPurge(`delete from audit_checkpoints where seq = ${String(head.seq)}`)).toBe(
      'audit_checkpoints is append-only',
    );
    expect(await failure(database.db.execute(sql`update audit_checkpoints set sealed = 0`))).toBe(
      'audit_checkpoints is append-only',
    );
    expect(await failure(database.db.execute(sql`truncate audit_checkpoints`))).toBe(
      'audit_checkpoints is append-only',
    );
    expect((await verify()).ok).toBe(true);
  });

  it('the retention purge keeps the head and every unsealed entry, and prunes old checkpoints', async () => {
    await sealAll();
    await write(database.db, 'unsealed_at_purge');
    clock.advance(1000 * 86_400);
    const head = (await chain()).at(-1)!;
    const result = await c.auditChain.purge({ retentionDays: 30, dryRun: false });
    expect(result.firstKeptSeq).toBe(head.seq);
    expect(await chain()).toEqual([head]);
    expect((await entriesOf('unsealed_at_purge'))[0]!.seq).toBeNull();
    const checkpoints = await database.db.select().from(auditCheckpoints);
    expect(checkpoints.map((cp) => cp.seq)).toEqual([head.seq]);
    await sealAll();
    const result2 = await verify();
    expect(result2).toMatchObject({ ok: true, checked: (await chain()).length });
  });
});

describe('tampering is detected', () => {
  const brokenAt = async () => (await verify()).firstBroken;

  it('a sealed entry whose content changed, even with a hash recomputed without the key', async () => {
    for (let i = 0; i < 5; i += 1) await write(database.db, 'tamper_target', i);
    await sealAll();
    const victim = (await entriesOf('tamper_target'))[2]!;
    const where = `where id = ${String(victim.id)}`;
    const restore = `update audit_log set action = 'tamper_target', hash = '${victim.hash!}', chain_scheme = 2 ${where}`;

    await tamper(`update audit_log set action = 'login_success' ${where}`);
    expect(await brokenAt()).toEqual({
      seq: victim.seq,
      id: victim.id,
      problem: expect.stringContaining('hash'),
    });
    const out = await runCli(c, 'audit:verify', []);
    expect(out.code).toBe(1);
    expect(out.text).toContain(`audit chain BROKEN at seq ${String(victim.seq)} (id ${String(victim.id)})`);

    // The hash recomputed over the changed entry the way anyone could without the key: the keyed
    // format with another key...
    const [content] = await createChainRepo(database.db).chainBatch(victim.seq! - 1, 1);
    const guessed = entryMac(randomBytes(32), victim.seq!, victim.prevHash, content!.content);
    await tamper(`update audit_log set hash = '${guessed}' ${where}`);
    expect((await brokenAt())?.seq).toBe(victim.seq);
    // ...or the SQL SHA-256 of the chain before the key, as if the entry predated it.
    await tamper(`update audit_log set hash = audit_log_digest(audit_log), chain_scheme = 1 ${where}`);
    expect(await brokenAt()).toMatchObject({ seq: victim.seq, problem: expect.stringContaining('unkeyed') });

    await tamper(restore);
    expect((await verify()).ok).toBe(true);
    // The right key recomputes it exactly (the test has it; the database never does).
    const [intact] = await createChainRepo(database.db).chainBatch(victim.seq! - 1, 1);
    expect(entryMac(chainKey(config.encryption), victim.seq!, victim.prevHash, intact!.content)).toBe(
      victim.hash,
    );
  });

  it('a forged checkpoint, and the tail of the chain removed', async () => {
    await sealAll();
    const head = (await chain()).at(-1)!;
    const dropCheckpoint = (seq: number) =>
      database.exec(`alter table audit_checkpoints disable trigger audit_checkpoints_append_only;
        delete from audit_checkpoints where seq = ${String(seq)};
        alter table audit_checkpoints enable trigger audit_checkpoints_append_only;`);
    await database.db.insert(auditCheckpoints).values({
      seq: head.seq! + 1,
      hash: head.hash!,
      at: clock.now(),
      sealed: 1,
      keyId: '0'.repeat(16),
      mac: '0'.repeat(64),
    });
    expect((await brokenAt())?.problem).toContain('another chain key');
    await dropCheckpoint(head.seq! + 1);
    expect((await verify()).ok).toBe(true);

    // A checkpoint removed from the middle: the next one counts entries its predecessor does not explain.
    const [middle] = await database.db
      .select()
      .from(auditCheckpoints)
      .orderBy(asc(auditCheckpoints.seq))
      .offset(1)
      .limit(1);
    await dropCheckpoint(middle!.seq);
    expect((await brokenAt())?.problem).toContain('a checkpoint before it is missing');
    await database.db.insert(auditCheckpoints).values(middle!);
    expect((await verify()).ok).toBe(true);

    // The last entry deleted (triggers off): the last checkpoint names a missing entry.
    await tamper(`delete from audit_log where seq = ${String(head.seq)}`);
    expect(await brokenAt()).toEqual({
      seq: head.seq,
      id: null,
      problem: expect.stringContaining('entry is missing'),
    });
    // And the sealer refuses to build on it.
    await write(database.db, 'after_truncation');
    await expect(sealAll()).rejects.toThrow(/does not match its last checkpoint/);
    expect((await entriesOf('after_truncation'))[0]!.seq).toBeNull();
  });
});

describe('a chain sealed before the key (migrations/0004) still verifies', () => {
  let legacy: Database;
  let dropLegacy: () => Promise<void>;
  beforeAll(async () => {
    ({ database: legacy, drop: dropLegacy } = await freshDatabase({ migrate: false }));
  });
  afterAll(async () => {
    await dropLegacy();
  });

  it('old entries keep their SQL hashes, new ones continue the chain with the key', async () => {
    const { MIGRATIONS_DIR, runMigrations } = await import('../src/db/migrate.js');
    const { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'pss-audit-legacy-'));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const journalFile = path.join(dir, 'meta/_journal.json');
      const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
      // Every migration before the one that brought the sealer (whatever its number).
      journal.entries = journal.entries.slice(
        0,
        journal.entries.findIndex((e) => e.tag.endsWith('_audit_sealer')),
      );
      writeFileSync(journalFile, JSON.stringify(journal));
      await runMigrations(legacy, dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Written as that release wrote them (its schema has no xid nor chain_scheme yet).
    for (const action of ['old_1', 'old_2', 'old_3']) {
      await legacy.db.execute(
        sql`insert into audit_log (action, resource_type, actor_role) values (${action}, 'test', 'system')`,
      );
    }
    expect(await runMigrations(legacy)).toContainEqual(expect.stringMatching(/^\d{4}_audit_sealer$/));

    const old = await legacy.db.select().from(auditLog).orderBy(asc(auditLog.seq));
    expect(old.map((r) => [r.seq, r.chainScheme, r.xid])).toEqual([
      [1, 1, null],
      [2, 1, null],
      [3, 1, null],
    ]);
    const lc = await createContainer(config, { database: legacy, clock, migrate: false });
    try {
      // Before the first seal: the old chain alone, no checkpoint yet.
      expect(await lc.auditChain.verify()).toMatchObject({ ok: true, checked: 3, checkpoint: null });
      await write(legacy.db, 'new_1');
      const sealed = await sealUntil(lc);
      expect(sealed).toMatchObject({ sealed: 2, head: { seq: 5 } });
      const rows = await legacy.db.select().from(auditLog).orderBy(asc(auditLog.seq));
      expect(rows.map((r) => r.chainScheme)).toEqual([1, 1, 1, 2, 2]);
      expect(rows[3]!.prevHash).toBe(rows[2]!.hash);
      expect(await lc.auditChain.verify()).toMatchObject({ ok: true, checked: 5, checkpoint: { seq: 5 } });

      // An old entry changed is still caught, by its SQL hash.
      await legacy.exec(`alter table audit_log disable trigger audit_log_append_only;
        update audit_log set action = 'old_x' where seq = 2;
        alter table audit_log enable trigger audit_log_append_only;`);
      expect((await lc.auditChain.verify()).firstBroken).toMatchObject({
        seq: 2,
        problem: expect.stringContaining('content'),
      });
    } finally {
      await lc.close();
    }
  });
});
