/**
 * Bench only, loaded with `--import` into one extra service instance (never the measured ones): every
 * statement a pg connection sends is appended to BENCH_SQL_LOG as a JSON line `{text, values}`, so the
 * bench can EXPLAIN exactly the SQL each route sends. Values are the bench's own test data.
 */
import { appendFileSync } from 'node:fs';
import pg from 'pg';

const file = process.env.BENCH_SQL_LOG;

function plain(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return `\\x${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

if (file) {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function capture(this: unknown, ...args: unknown[]) {
    const [first, second] = args;
    const config =
      typeof first === 'object' && first !== null ? (first as { text?: unknown; values?: unknown }) : {};
    const text = typeof first === 'string' ? first : config.text;
    const values = Array.isArray(second) ? second : config.values;
    if (typeof text === 'string') {
      const line = { text, values: Array.isArray(values) ? values.map(plain) : [] };
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    }
    return original.apply(this, args);
  };
}
