/**
 * Every write answered 201 must be in the database: the ids the service returned are counted in
 * `journal_entries`, and their `create` audit rows in `audit_log` (docs/ARCHITECTURE.md "Audit").
 */
import pg from 'pg';
import { call } from './http.js';

export interface WriteCheck {
  answered: number;
  rows: number;
  audited: number | string;
}

export async function verifyWrites(databaseUrl: string, ids: number[]): Promise<WriteCheck> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const unique = [...new Set(ids)];
    const rows = await client.query<{ n: string }>(
      'select count(*) as n from journal_entries where id = any($1::bigint[])',
      [unique],
    );
    let audited: number | string;
    try {
      const audit = await client.query<{ n: string }>(
        `select count(distinct resource_id) as n from audit_log
          where resource_type = 'journal_entry' and action = 'create' and resource_id = any($1::text[])`,
        [unique.map(String)],
      );
      audited = Number(audit.rows[0]?.n ?? 0);
    } catch (err) {
      audited = `not checked (${(err as Error).message})`;
    }
    return { answered: ids.length, rows: Number(rows.rows[0]?.n ?? 0), audited };
  } finally {
    await client.end();
  }
}

export function describeCheck(check: WriteCheck): string {
  const ok =
    check.rows === check.answered && (typeof check.audited !== 'number' || check.audited === check.answered);
  return (
    `${ok ? 'writes verified' : 'WRITES MISSING'}: ${check.answered} answered 201, ` +
    `${check.rows} rows in journal_entries, audit rows: ${check.audited}`
  );
}

/** PGlite (the service holds the files): each writer's entry count through the API instead. */
export async function verifyWritesByApi(
  port: number,
  writers: { access: string }[],
  answered: number,
): Promise<WriteCheck> {
  let rows = 0;
  for (const writer of writers) {
    const page = await call<{ count: number }>(port, {
      method: 'GET',
      path: '/api/journal/?page_size=1',
      token: writer.access,
    });
    rows += page.count;
  }
  return { answered, rows, audited: 'not checked (PGlite)' };
}
