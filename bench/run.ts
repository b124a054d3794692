/**
 * `npm run bench [-- flags]` (flags: bench/args.ts, `--help`). On PostgreSQL + Redis (started as CI
 * starts them when they are not running; the database `pss_bench` is dropped and recreated), in one run:
 * the ceilings (bare node:http, bare Fastify), then the service's hot routes, journal writes on one and
 * on two instances, and a login storm with `me` beside it; rounds are interleaved and medians reported.
 * Every 201 is checked in the database afterwards. `--scale large` then generates 100,000 candidates ×
 * 30 entries and measures the reads again; EXPLAIN (ANALYZE, BUFFERS) of each route's SQL ends the run.
 * Prints one table and a markdown section; `--write` appends it to docs/PERFORMANCE.md. No test
 * asserts a timing.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs, type BenchArgs } from './args.js';
import { startCeiling, type Child } from './child.js';
import { captureRoutes, explainCaptures } from './explain.js';
import { call } from './http.js';
import { describePostgres, ensurePostgres, ensureRedis, recreateDatabase } from './infra.js';
import { seedLarge } from './large.js';
import { runPhase, summarise, type PhaseSample, type Row } from './measure.js';
import { buildPhases, type Phase } from './phases.js';
import { appendToPerformance, mainTable, scaleTable, sectionMarkdown } from './report.js';
import { entryBody, PASSWORD, seedSmall } from './seed.js';
import { dataDir, newSecrets, startService, type ServiceTarget } from './service.js';
import { describeCheck, verifyWrites, verifyWritesByApi } from './verify.js';

const BASE_PORT = Number(process.env.BENCH_PORT ?? 18900);

function git(args: string[]): string {
  try {
    return execFileSync('git', args).toString().trim();
  } catch {
    return '?';
  }
}

/** Warm-up (1 s each, discarded), then `rounds` interleaved rounds; rows in phase order. */
async function measure(phases: Phase[], args: BenchArgs, seconds: number): Promise<Row[]> {
  for (const phase of phases) {
    for (const load of phase.loads) load.seconds = 1;
    await runPhase(phase);
    for (const load of phase.loads) load.seconds = seconds;
  }
  const samples = new Map<string, PhaseSample[]>(phases.map((p) => [p.key, []]));
  for (let round = 1; round <= args.rounds; round += 1) {
    for (const phase of phases) {
      const sample = await runPhase(phase);
      samples.get(phase.key)?.push(sample);
      const first = sample.loads[0];
      if (first) {
        const rps = first.requests / first.seconds;
        const p99 = first.latencies[Math.floor(first.latencies.length * 0.99)] ?? Number.NaN;
        console.log(
          `#   round ${round}/${args.rounds} ${phase.key.padEnd(18)} ${rps.toFixed(0).padStart(6)} req/s  p99 ${p99.toFixed(1)} ms  errors ${first.errors}`,
        );
      }
    }
  }
  const rows: Row[] = [];
  const priced = new Map<string, Row>();
  for (const phase of phases) {
    const phaseRows = summarise(phase, samples.get(phase.key) ?? [], priced);
    if (phaseRows[0]) priced.set(phase.key, phaseRows[0]);
    rows.push(...phaseRows);
  }
  return rows;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const secrets = newSecrets();
  const target: ServiceTarget = { databaseUrl: '', redisUrl: '', secrets };
  let database = 'PGlite (embedded, development only: its queries run on the service event loop)';
  if (!args.pglite) {
    await ensurePostgres(args.postgresUrl);
    await ensureRedis(args.redisUrl);
    target.databaseUrl = await recreateDatabase(args.postgresUrl, args.database);
    target.redisUrl = args.redisUrl;
    database = `${await describePostgres(target.databaseUrl)} + Redis, database \`${args.database}\``;
  }
  const load = loadavg()[0]?.toFixed(2) ?? '?';
  const children: Child[] = [];
  const started = async (child: Promise<Child>) => {
    const c = await child;
    children.push(c);
    return c;
  };
  try {
    const ceilings = {
      http: await started(startCeiling('http', BASE_PORT + 1)),
      fastify: await started(startCeiling('fastify', BASE_PORT + 2)),
    };
    const service = await started(startService(target, { name: 'service', port: BASE_PORT + 3 }));
    const second = args.pglite
      ? undefined
      : await started(startService(target, { name: 'service 2', port: BASE_PORT + 4 }));
    const half = Math.max(1, Math.floor(args.connections / 2));
    console.log('# seeding the small data set through the API');
    const data = await seedSmall(service.port, args.connections, half);
    const world = {
      seconds: args.seconds,
      connections: args.connections,
      ceilings,
      service,
      second,
      data,
      created: [] as number[],
    };
    const wanted = (p: Phase) => args.only.length === 0 || args.only.some((o) => p.key.includes(o));
    const phases = buildPhases(world).filter((p) => wanted(p) || p.key === 'ceiling-http');
    console.log(`# ${args.rounds} rounds × ${phases.length} phases × ${args.seconds} s`);
    const rows = await measure(phases, args, args.seconds);
    const ceiling = rows.find((r) => r.key === 'ceiling-http')?.rps ?? Number.NaN;
    const check = target.databaseUrl
      ? await verifyWrites(target.databaseUrl, world.created)
      : await verifyWritesByApi(service.port, data.writers, world.created.length);
    const notes = [describeCheck(check)];
    const alone = rows.find((r) => r.key === 'me-alone');
    const beside = rows.find((r) => r.key === 'login-storm' && r.label.startsWith('GET'));
    const storm = rows.find((r) => r.key === 'login-storm' && r.label.startsWith('POST'));
    if (alone && beside && storm) {
      notes.push(
        `login storm: \`me\` p99 ${alone.p99.toFixed(1)} ms alone, ${beside.p99.toFixed(1)} ms beside the storm ` +
          `(×${(beside.p99 / alone.p99).toFixed(1)}); logins answered ${[...storm.statuses].map(([s, n]) => `${s}×${n}`).join(', ')}`,
      );
    }
    notes.push(
      'CPU µs/req: the serving process(es), user + system, every thread (argon2 included); stmts/req: ' +
        '`db_statements_total` (every statement a pooled connection sent, BEGIN/COMMIT included). ' +
        'Storm row: `me`\'s share taken out at its "alone" price.',
    );

    let scale: string | undefined;
    if (args.scale === 'large' && target.databaseUrl) {
      console.log(
        `# generating ${args.candidates} candidates × ${args.entriesPerCandidate} entries in the database`,
      );
      const large = await seedLarge(target.databaseUrl, secrets, args.candidates, args.entriesPerCandidate);
      const page = await call<{ count: number; results: unknown[] }>(service.port, {
        method: 'GET',
        path: `/api/journal/?user=${large.sampleUserId}`,
        token: data.admin.access,
      });
      notes.push(
        `large data set: ${large.candidates} candidates × ${args.entriesPerCandidate} entries generated in ` +
          `${large.seconds.toFixed(0)} s; a generated candidate's page read through the API: ` +
          `${page.results.length} of ${page.count} entries decrypted`,
      );
      const reads = phases.filter((p) => p.read);
      const largeRows = await measure(reads, args, args.seconds);
      scale = scaleTable(rows, largeRows);
    }

    let explain: string | undefined;
    if (args.explain && target.databaseUrl) {
      const sqlLog = path.join(dataDir, 'statements.jsonl');
      let day = 0;
      const capture = await started(startService(target, { name: 'capture', port: BASE_PORT + 5, sqlLog }));
      const captures = await captureRoutes(capture.port, sqlLog, [
        {
          label: 'GET /api/auth/me/',
          request: () => ({ method: 'GET', path: '/api/auth/me/', token: data.reader.access }),
        },
        {
          label: 'GET /api/journal/',
          request: () => ({ method: 'GET', path: '/api/journal/', token: data.reader.access }),
        },
        {
          label: 'GET /api/dashboard/admin-stats/',
          request: () => ({ method: 'GET', path: '/api/dashboard/admin-stats/', token: data.admin.access }),
        },
        {
          label: 'POST /api/journal/',
          request: () => ({
            method: 'POST',
            path: '/api/journal/',
            token: data.reader.access,
            body: entryBody(`0500-01-${String((day += 1)).padStart(2, '0')}`, day),
          }),
        },
        {
          label: 'POST /api/auth/login/',
          request: () => ({
            method: 'POST',
            path: '/api/auth/login/',
            body: { email: data.reader.email, password: PASSWORD },
          }),
        },
      ]);
      explain = await explainCaptures(target.databaseUrl, captures);
    }

    const commit = git(['rev-parse', '--short', 'HEAD']);
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) ? ' + uncommitted changes' : '';
    const section = sectionMarkdown({
      title: `${new Date().toISOString().slice(0, 10)} — commit ${commit}${dirty}${args.label ? ` — ${args.label}` : ''}`,
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      setting: [
        `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load average ${load} at the start; Node ${process.version}; ${database}`,
        `${args.connections} keep-alive connections (the storm: half logging in, half reading \`me\`); ` +
          `${args.rounds} interleaved rounds × ${args.seconds} s per phase after a 1 s warm-up; medians of the rounds`,
        'small data set: one candidate with 20 entries (the reader), one writer candidate per connection, ' +
          "the storm's candidates, an admin enrolled in 2FA",
      ],
      table: mainTable(rows, ceiling),
      notes,
      scale,
      explain,
    });
    console.log(`\n${section}`);
    if (args.write) {
      appendToPerformance(section);
      console.log('# appended to docs/PERFORMANCE.md');
    }
  } finally {
    for (const child of children.reverse()) await child.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
