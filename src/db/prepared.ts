import type { DbOrTx } from './client.js';

/**
 * Queries on hot paths are built once per database handle and then only executed with new values
 * (docs/operations.md#statements-per-request): drizzle does not rebuild their SQL per request.
 * PostgreSQL gets them as unnamed statements, so they work through a transaction pooler (PgBouncer
 * before 1.21 cannot keep named prepared statements across transactions).
 */
export const UNNAMED = undefined as unknown as string;

/** One set of built queries per handle (the app's pool, or each test's database). */
export function builtOnce<Q>(build: (db: DbOrTx) => Q): (db: DbOrTx) => Q {
  const built = new WeakMap<DbOrTx, Q>();
  return (db) => {
    let queries = built.get(db);
    if (!queries) {
      queries = build(db);
      built.set(db, queries);
    }
    return queries;
  };
}
