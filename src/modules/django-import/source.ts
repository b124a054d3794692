import pg from 'pg';

/**
 * The original's database, read-only: one connection, one REPEATABLE READ READ ONLY transaction, so
 * the whole import sees one consistent snapshot and cannot write to the source even by mistake.
 * Timestamps, dates and 64-bit integers are read as the server's text (microseconds kept); jsonb is
 * parsed.
 */
export type SourceRow = Record<string, unknown>;

const TEXT_TYPES = [20, 1082, 1114, 1184, 869]; // int8, date, timestamp, timestamptz, inet
const textTypes = new pg.TypeOverrides();
for (const oid of TEXT_TYPES) textTypes.setTypeParser(oid, (value: string) => value);

export interface SourceDatabase {
  /** Tables of the `public` schema with their columns. */
  tables(): Promise<Map<string, Set<string>>>;
  count(table: string): Promise<number>;
  /** Rows in id order, `size` at a time; `select` lists the columns (or SQL expressions) to read. */
  batches(table: string, select: readonly string[], size: number): AsyncGenerator<SourceRow[]>;
  query<T extends SourceRow>(text: string, values?: unknown[]): Promise<T[]>;
  /** The source as `host/database` (no credentials), for the report and the audit entry. */
  readonly label: string;
  close(): Promise<void>;
}

/** A source value as text: strings as they are, numbers and booleans spelled out, anything else as JSON. */
export function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v) ?? '';
}
/** A name as an SQL identifier, quoted. */
export const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function openSource(url: string): Promise<SourceDatabase> {
  const parsed = new URL(url);
  const label = `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname}`;
  const client = new pg.Client({
    connectionString: url,
    application_name: 'pss-import-django',
    types: textTypes,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  const query = async <T extends SourceRow>(text: string, values: unknown[] = []) =>
    (await client.query(text, values)).rows as T[];

  return {
    label,
    query,
    async tables() {
      const rows = await query<{ table_name: string; column_name: string }>(
        `select c.table_name, c.column_name from information_schema.columns c
           join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
          where c.table_schema = 'public' and t.table_type = 'BASE TABLE'
          order by c.table_name, c.ordinal_position`,
      );
      const out = new Map<string, Set<string>>();
      for (const r of rows) {
        const set = out.get(r.table_name) ?? new Set<string>();
        set.add(r.column_name);
        out.set(r.table_name, set);
      }
      return out;
    },
    async count(table) {
      const rows = await query<{ n: string }>(`select count(*) as n from ${quote(table)}`);
      return Number(rows[0]?.n ?? 0);
    },
    async *batches(table, select, size) {
      let after: string | null = null;
      for (;;) {
        const rows: SourceRow[] = await query(
          `select ${select.join(', ')} from ${quote(table)} t
            where ($1::bigint is null or t.id > $1::bigint) order by t.id limit ${String(size)}`,
          [after],
        );
        if (rows.length === 0) return;
        yield rows;
        if (rows.length < size) return;
        after = asText(rows.at(-1)?.id);
      }
    },
    async close() {
      await client.query('ROLLBACK').catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
