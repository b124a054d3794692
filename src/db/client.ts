import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { tagDependency, unavailableDependency } from '../lib/unavailable.js';
import * as schema from './schema.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle: same query API as Db. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type DbOrTx = Db | Tx;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /** The pg pool (PostgreSQL only), for libraries that speak pg themselves (rate limiter store). */
  pool?: pg.Pool;
  /** Runs one raw SQL script (several statements allowed on PGlite; one at a time on pg). */
  exec(sqlText: string): Promise<void>;
  /**
   * Resolves when the server answers `select 1` on a connection of its own (not one of the pool's, so
   * a busy pool never reads as an outage; a server refusing more connections is up too); rejects
   * within about two seconds otherwise.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Statements sent to the database since it was opened: on PostgreSQL every statement any pooled
   * connection sent (drizzle's, BEGIN/COMMIT, the rate-limit store's); on PGlite drizzle's. Exported as
   * `db_statements_total` (docs/operations.md#metrics); tests use it to prove lists do not grow with
   * page size, `npm run bench` to report statements per request.
   */
  statementCount(): number;
}

export interface DatabaseOptions {
  url?: string | undefined;
  /** PGlite data folder; 'memory://' for an in-memory database. */
  dataDir?: string;
  poolMax?: number;
  ssl?: boolean;
  /** Told about connection errors the pool recovers from by itself (they would otherwise crash the process). */
  onConnectionError?: (err: Error) => void;
}

const PING_TIMEOUT_MS = 2000;
/** too_many_connections: the server is up and answering, only full (not an outage). */
const SERVER_FULL = '53300';

/**
 * Connection settings from the configuration: PostgreSQL when DATABASE_URL is set, else PGlite in
 * DATA_DIR. `direct` connects past a transaction pooler (DIRECT_DATABASE_URL), for migrations.
 */
export function databaseOptions(
  config: {
    databaseUrl: string | undefined;
    directDatabaseUrl: string | undefined;
    dataDir: string;
    databasePoolMax: number;
    databaseSsl: boolean;
  },
  poolMax = config.databasePoolMax,
  { direct = false }: { direct?: boolean } = {},
): DatabaseOptions {
  return {
    url: direct ? config.directDatabaseUrl : config.databaseUrl,
    dataDir: config.dataDir === ':memory:' ? 'memory://' : `${config.dataDir}/pglite`,
    poolMax,
    ssl: config.databaseSsl,
  };
}

/**
 * SECURITY (availability): drizzle-orm's node-postgres `transaction()` does not release its client
 * when `begin` fails, which is what happens on a connection a restarting server just ended: each
 * such failure leaks a pool slot, and after an outage the pool is dry for good. drizzle is handed
 * this pool instead (its name contains "Pool", which is how drizzle recognises a pool): a client
 * whose connection failed is released at once (the pool discards it), and release is idempotent, so
 * drizzle's own later release is harmless.
 */
class TransactionSafePool {
  constructor(private readonly pool: pg.Pool) {}

  async query(config: unknown, values?: unknown): Promise<unknown> {
    try {
      return await this.pool.query(config as never, values as never);
    } catch (err) {
      tagDependency(err, 'database');
      throw err;
    }
  }

  async connect() {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      tagDependency(err, 'database');
      throw err;
    }
    let released = false;
    const release = (err?: Error) => {
      if (released) return;
      released = true;
      client.release(err);
    };
    return {
      query: async (config: unknown, values?: unknown): Promise<unknown> => {
        try {
          return await client.query(config as never, values as never);
        } catch (err) {
          if (unavailableDependency(err, 'database')) {
            tagDependency(err, 'database');
            release(err as Error);
          }
          throw err;
        }
      },
      release,
    };
  }
}

/**
 * SAFETY (transaction pooling, docs/operations.md#connection-pooling): a query config with a `name`
 * makes node-postgres prepare it once per connection and afterwards send only the name. Behind
 * PgBouncer in transaction mode the next transaction may run on a server connection that never saw
 * it ("prepared statement does not exist"; PgBouncer before 1.21 does not follow names).
 * rate-limiter-flexible names all its statements, so every pooled statement leaves unnamed: parsed
 * per execution, which is what the service's own queries do anyway (db/prepared.ts).
 */
function unnamed(config: unknown): unknown {
  if (config === null || typeof config !== 'object' || !('name' in config)) return config;
  if (typeof (config as { submit?: unknown }).submit === 'function') return config; // a Submittable (cursor, stream)
  const { name: _name, ...rest } = config as Record<string, unknown>;
  return rest;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  let statements = 0;
  // Counted where every statement leaves: a pooled connection's `query`, whoever called it (drizzle,
  // the pool's own `query`, rate-limiter-flexible). The pool emits 'connect' before it hands a new
  // connection to anyone, so no statement escapes the count, nor `unnamed`.
  const countStatements = (client: pg.PoolClient) => {
    const send = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (
      first: unknown,
      ...rest: unknown[]
    ) => {
      statements += 1;
      return send(unnamed(first), ...rest);
    };
  };
  if (opts.url) {
    const ssl = opts.ssl ? { rejectUnauthorized: true } : undefined;
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      ssl,
      // Fail fast when the database is unreachable instead of hanging a request.
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
      keepAlive: true,
    });
    const onError = (err: Error) => opts.onConnectionError?.(err);
    // An idle pooled client that dies is replaced by the pool; it reports here.
    pool.on('error', onError);
    // SECURITY (availability): a client checked out of the pool has no listener of the pool's, and
    // a server that terminates it between two statements (57P01 at a restart) emits 'error' on it.
    // Unheard, that event kills the process; heard, the statement in flight fails and the pool
    // discards the client.
    pool.on('connect', (client) => {
      client.on('error', onError);
      countStatements(client);
    });
    // The wrapper has the pool interface drizzle calls (query, connect, release), not its type.
    const client = new TransactionSafePool(pool) as unknown as pg.Pool;
    const db = drizzlePg({ client, schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      pool,
      exec: async (text) => {
        await pool.query(text);
      },
      ping: async () => {
        const client = new pg.Client({
          connectionString: opts.url,
          ssl,
          connectionTimeoutMillis: PING_TIMEOUT_MS,
          query_timeout: PING_TIMEOUT_MS,
        });
        client.on('error', () => undefined);
        try {
          await client.connect();
          await client.query('select 1');
        } catch (err) {
          if ((err as { code?: unknown }).code !== SERVER_FULL) throw err;
        } finally {
          void client.end().catch(() => undefined);
        }
      },
      close: () => pool.end(),
      statementCount: () => statements,
    };
  }
  const dir = opts.dataDir ?? 'memory://';
  if (!dir.startsWith('memory://')) mkdirSync(path.resolve(dir), { recursive: true });
  const client = await PGlite.create(dir.startsWith('memory://') ? undefined : path.resolve(dir));
  // PGlite has no pool: drizzle's logger sees each statement it sends.
  const logger = {
    logQuery: () => {
      statements += 1;
    },
  };
  const db = drizzlePglite({ client, schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    exec: async (text) => {
      await client.exec(text);
    },
    ping: async () => {
      await client.query('select 1');
    },
    close: () => client.close(),
    statementCount: () => statements,
  };
}
