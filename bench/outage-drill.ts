/**
 * Outage drill (docs/ARCHITECTURE.md "When a dependency fails"): 16 clients, half writing journal
 * entries, against a running service for N seconds, while you stop and start PostgreSQL or Redis for real
 * in another terminal. Prints, per second, how many reads and writes got which status, then checks in
 * the database that every write answered 201 is there with its audit row.
 *
 *   npx tsx bench/outage-drill.ts http://127.0.0.1:8000 30 postgres://…/the_service_database
 *
 * The service should run with RATE_LIMIT_USER=off RATE_LIMIT_REGISTER=off RATE_LIMIT_ANON=off.
 */
import pg from 'pg';

const base = process.argv[2] ?? 'http://127.0.0.1:8000';
const seconds = Number(process.argv[3] ?? 30);
const databaseUrl = process.argv[4];
const PASSWORD = 'Tq9!Vb7#Lm4$Xz2k';
const CLIENTS = 16;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(url: string, body: object, token?: string): Promise<Response> {
  return fetch(base + url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

async function register(i: number): Promise<string> {
  const res = await post('/api/auth/register/', {
    email: `drill.${Date.now().toString(36)}.${i}@capaciti.org.za`,
    password: PASSWORD,
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access: string }).access;
}

async function main(): Promise<void> {
  const tokens = await Promise.all(Array.from({ length: CLIENTS / 2 }, (_, i) => register(i)));
  const started = Date.now();
  const tally = new Map<string, number>();
  const count = (label: string) => tally.set(label, (tally.get(label) ?? 0) + 1);
  const created: number[] = [];
  let day = 0;
  const until = started + seconds * 1000;

  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const token = tokens[i % tokens.length] ?? '';
      const write = i % 2 === 1;
      while (Date.now() < until) {
        const second = String(Math.floor((Date.now() - started) / 1000)).padStart(3);
        const t0 = Date.now();
        try {
          let res: Response;
          if (write) {
            day += 1;
            const date = new Date(Date.UTC(2001, 0, 1) + day * 86_400_000).toISOString().slice(0, 10);
            res = await post(
              '/api/journal/',
              { date, mood: 'good', energy_level: 5, activities: 'drill' },
              token,
            );
            if (res.status === 201) created.push(((await res.json()) as { id: number }).id);
            else await res.text();
          } else {
            res = await fetch(base + (i % 4 ? '/api/journal/' : '/api/auth/me/'), {
              headers: { authorization: `Bearer ${token}` },
            });
            await res.text();
          }
          count(`${second}s ${write ? 'write' : 'read '} ${res.status}`);
        } catch {
          count(`${second}s ${write ? 'write' : 'read '} network error`);
        }
        if (Date.now() - t0 > 1500) count(`${second}s slower than 1.5 s`);
        await sleep(10);
      }
    }),
  );
  for (const label of [...tally.keys()].sort()) process.stdout.write(`${label}: ${tally.get(label)}\n`);
  process.stdout.write(`writes answered 201: ${created.length}\n`);
  if (!databaseUrl) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const found = await client.query<{ n: number }>(
      'select count(*)::int as n from journal_entries where id = any($1)',
      [created],
    );
    const unaudited = await client.query<{ n: number }>(
      `select count(*)::int as n from journal_entries e where e.id = any($1) and not exists (
         select 1 from audit_log a where a.resource_type = 'journal_entry' and a.resource_id = e.id::text
           and a.action = 'create')`,
      [created],
    );
    process.stdout.write(
      `in the database: ${found.rows[0]?.n ?? 0}; without their audit row: ${unaudited.rows[0]?.n ?? 0}\n`,
    );
  } finally {
    await client.end();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
