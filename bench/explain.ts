/**
 * EXPLAIN (ANALYZE, BUFFERS) of the SQL each hot route really sends: an extra service instance runs
 * with bench/sql-capture.ts, each route is called three times (the last, warm call is the one kept),
 * and each distinct statement is explained in a transaction that is rolled back.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import pg from 'pg';
import { send, type RequestSpec } from './http.js';

export interface Captured {
  text: string;
  values: unknown[];
}

export interface RouteCapture {
  label: string;
  statements: Captured[];
}

const CONTROL = /^\s*(begin|commit|rollback|savepoint|release savepoint|select 1)\b/i;

function readFrom(file: string, offset: number): Captured[] {
  return readFileSync(file)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Captured);
}

/** Calls each route three times on the capturing instance and keeps the statements of the last call. */
export async function captureRoutes(
  port: number,
  file: string,
  routes: { label: string; request: () => RequestSpec }[],
): Promise<RouteCapture[]> {
  writeFileSync(file, '');
  const out: RouteCapture[] = [];
  for (const route of routes) {
    let offset = 0;
    for (let i = 0; i < 3; i += 1) {
      offset = statSync(file).size;
      const reply = await send(port, route.request());
      if (reply.status >= 400) throw new Error(`${route.label}: ${reply.status} ${reply.body.slice(0, 200)}`);
      // Work after the answer (audit of reads, e-mail) lands shortly after it.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    out.push({ label: route.label, statements: readFrom(file, offset) });
  }
  return out;
}

/** The plan of one statement; writes and locks are undone by the rollback. */
async function explainOne(client: pg.Client, statement: Captured): Promise<string> {
  for (const analyze of [true, false]) {
    const options = analyze ? '(ANALYZE, BUFFERS)' : '';
    await client.query('begin');
    try {
      const result = await client.query<Record<string, string>>(
        `explain ${options} ${statement.text}`,
        statement.values,
      );
      const plan = result.rows.map((r) => Object.values(r)[0] ?? '').join('\n');
      return analyze ? plan : `(not re-executable, plan only)\n${plan}`;
    } catch (err) {
      if (!analyze) return `(no plan: ${(err as Error).message})`;
    } finally {
      await client.query('rollback');
    }
  }
  return '(no plan)';
}

export async function explainCaptures(databaseUrl: string, captures: RouteCapture[]): Promise<string> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const parts: string[] = [];
  try {
    for (const capture of captures) {
      const all = capture.statements;
      const explained = [
        ...new Map(all.filter((s) => !CONTROL.test(s.text)).map((s) => [s.text, s])).values(),
      ];
      parts.push(`#### ${capture.label}: ${all.length} statements\n`);
      parts.push('```');
      for (const s of all) parts.push(`-- ${s.text.replace(/\s+/g, ' ').slice(0, 240)}`);
      parts.push('```\n');
      for (const statement of explained) {
        parts.push('```sql', statement.text.replace(/\s+/g, ' '), '```', '```');
        parts.push(await explainOne(client, statement), '```\n');
      }
    }
  } finally {
    await client.end();
  }
  return parts.join('\n');
}
