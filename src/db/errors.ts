/**
 * Driver errors the code expects and answers itself. drizzle wraps the driver's error in `cause`;
 * node-postgres and PGlite both carry the SQLSTATE in `code` and the constraint's name.
 */
interface PgErrorShape {
  code?: string;
  constraint?: string;
  cause?: { code?: string; constraint?: string };
}

/** The unique constraint `err` violated (SQLSTATE 23505), or null when it is another error. */
export function violatedUnique(err: unknown): { constraint: string | undefined } | null {
  const e = err as PgErrorShape | null;
  const pg = e?.code === '23505' ? e : e?.cause?.code === '23505' ? e.cause : null;
  return pg ? { constraint: pg.constraint } : null;
}

/** Whether `err` is a unique violation, optionally of the named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const hit = violatedUnique(err);
  return hit !== null && (constraint === undefined || hit.constraint === constraint);
}

/** The one row an INSERT/UPDATE … RETURNING or an aggregate must give; its absence is a defect. */
export function onlyRow<T>(rows: readonly T[], what: string): T {
  const row = rows[0];
  if (row === undefined) throw new Error(`${what} returned no row`);
  return row;
}
