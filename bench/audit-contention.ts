/**
 * Audit contention (docs/PERFORMANCE.md "Audit without a global lock"): how much audited writes wait
 * for each other. On a database created for the run (and dropped after), in one process:
 *
 *   1. 32 concurrent transactions, each writing an audit entry through the recorder and then holding
 *      the transaction open 100 ms (`pg_sleep(0.1)`) before commit: wall time, three times;
 *   2. 32 callers committing audited transactions (one entry each) as fast as they can, then 32
 *      candidates creating journal entries through the HTTP stack (`app.inject`, no network), each
 *      for BENCH_SECONDS: per second, and the creates' latency;
 *   3. how long the sealer then takes to chain the whole backlog (when the code has one).
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_SECONDS=10 npx tsx bench/audit-contention.ts
 *
 * PostgreSQL only (the embedded database has one connection: nothing runs concurrently there).
 */
import { randomBytes } from 'node:crypto';
import { count, isNull, sql } from 'drizzle-orm';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createContainer } from '../src/container.js';
import { auditLog } from '../src/db/schema.js';
import { recordAudit } from '../src/modules/audit/index.js';

const adminUrl = process.env.BENCH_DATABASE_URL;
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = 32;
const PASSWORD = 'Tq9!Vb7#Lm4$Xz2k';

async function withDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  if (!adminUrl) throw new Error('BENCH_DATABASE_URL is required (a PostgreSQL server)');
  const name = `pss_bench_audit_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return await run(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function main(): Promise<void> {
  await withDatabase(async (url) => {
    const off = 'off';
    const config = loadConfig({
      APP_ENV: 'test',
      DATABASE_URL: url,
      DATABASE_POOL_MAX: String(CONCURRENCY + 8),
      DATA_DIR: ':memory:',
      SECRET_KEY: randomBytes(48).toString('base64url'),
      FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
      EMAIL_BACKEND: 'memory',
      ...Object.fromEntries(
        ['USER', 'ANON', 'LOGIN', '2FA_VERIFY', 'REGISTER', 'RESET_REQUEST', 'RESET_CONFIRM', 'REFRESH'].map(
          (s) => [`RATE_LIMIT_${s}`, off],
        ),
      ),
      RATE_LIMIT_SENSITIVE_USER: off,
      LOCKOUT_IP_THRESHOLD: '1000',
    });
    const c = await createContainer(config);
    const app = await buildApp(c);
    await app.ready();
    try {
      const all = <T>(fn: (i: number) => Promise<T>) =>
        Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => fn(i)));
      // Open the pool's connections first.
      await all(() => c.db.transaction((tx) => tx.execute(sql`select pg_sleep(0.02)`)));

      for (let round = 1; round <= 3; round += 1) {
        const started = performance.now();
        await all((i) =>
          c.db.transaction(async (tx) => {
            await recordAudit(
              tx,
              { actor: null, meta: null },
              { action: 'bench_write', resourceType: 'bench', resourceId: i },
            );
            await tx.execute(sql`select pg_sleep(0.1)`);
          }),
        );
        console.log(
          `32 audited writes held 100 ms each, round ${round}: ${(performance.now() - started).toFixed(0)} ms`,
        );
      }

      // Bare audited transactions (one audit entry, then commit), as fast as 32 callers can.
      {
        let commits = 0;
        const until = performance.now() + seconds * 1000;
        const started = performance.now();
        await all(async (i) => {
          while (performance.now() < until) {
            await c.db.transaction((tx) =>
              recordAudit(
                tx,
                { actor: null, meta: null },
                { action: 'bench_commit', resourceType: 'bench', resourceId: i },
              ),
            );
            commits += 1;
          }
        });
        const elapsed = (performance.now() - started) / 1000;
        console.log(
          `audited transactions, ${CONCURRENCY} callers, ${elapsed.toFixed(1)} s: ${(commits / elapsed).toFixed(0)}/s`,
        );
      }

      const tokens = await all(async (i) => {
        const res = await app.inject({
          method: 'POST',
          url: '/api/auth/register/',
          payload: { email: `bench.${Date.now().toString(36)}.${i}@capaciti.org.za`, password: PASSWORD },
        });
        if (res.statusCode !== 201) throw new Error(`register: ${res.statusCode} ${res.body}`);
        return res.json<{ access: string }>().access;
      });
      const latencies: number[] = [];
      let failed = 0;
      const until = performance.now() + seconds * 1000;
      const started = performance.now();
      await all(async (i) => {
        for (let day = 0; performance.now() < until; day += 1) {
          const date = new Date(Date.UTC(2001, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
          const t0 = performance.now();
          const res = await app.inject({
            method: 'POST',
            url: '/api/journal/',
            headers: { authorization: `Bearer ${tokens[i] ?? ''}` },
            payload: { date, mood: 'good', energy_level: 5, activities: 'bench' },
          });
          if (res.statusCode === 201) latencies.push(performance.now() - t0);
          else failed += 1;
        }
      });
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      console.log(
        `journal creates, ${CONCURRENCY} candidates, ${elapsed.toFixed(1)} s: ${(latencies.length / elapsed).toFixed(0)}/s, ` +
          `p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, failed ${failed}`,
      );

      // The sealer drains the backlog (it waits for older write transactions of the whole server).
      const chain = c.auditChain as { seal?: (o: { wait: boolean }) => Promise<{ sealed: number }> };
      if (chain.seal) {
        const t0 = performance.now();
        let sealed = 0;
        for (;;) {
          sealed += (await chain.seal({ wait: true })).sealed;
          const [left] = await c.db.select({ n: count() }).from(auditLog).where(isNull(auditLog.seq));
          if (left?.n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const ms = performance.now() - t0;
        console.log(
          `sealer: ${sealed} entries chained in ${ms.toFixed(0)} ms (${((sealed / ms) * 1000).toFixed(0)}/s)`,
        );
      }
    } finally {
      await app.close();
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
