import type { Db, Tx } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { FernetReader } from './fernet.js';
import type { ImportReport } from './report.js';
import { asText, type SourceDatabase, type SourceRow } from './source.js';

export { asText };

/** A source user present here (imported by this run or an earlier one, and not erased since). */
export interface KnownUser {
  role: string;
}

/** What every step shares during one run. */
export interface ImportContext {
  db: Db;
  source: SourceDatabase;
  cipher: FieldCipher;
  fernet: FernetReader;
  report: ImportReport;
  /** Keyed digest of a source row as read (the ledger compares it across runs). */
  digest: (row: Record<string, unknown>) => string;
  dryRun: boolean;
  /** The run's start: when rows are stamped as imported, and "now" for states that depend on it. */
  startedAt: Date;
  timeZone: string;
  deletionGraceDays: number;
  /** Source user id (= id here) → what later steps need to know of them. */
  users: Map<number, KnownUser>;
  /** Users erased in this service since they were imported: nothing of theirs is brought back. */
  erased: Set<number>;
  /** Privacy policy versions present here (by id). */
  policies: Set<number>;
  /** The users' data keys (loaded from here, or new for users imported now). */
  /** The data keys of these users (made for those who have none yet); the answer throws for any other user. */
  deks(userIds: Iterable<number>): Promise<(userId: number) => Buffer>;
}

/** One row to write: its source id, its id here, and its columns. */
export interface Prepared {
  sourceId: number;
  targetId: number;
  row: Record<string, unknown>;
}

/**
 * How one source table is carried over: which columns it reads, how a batch becomes rows of this
 * service (rejecting, through the report, what cannot be carried), and how they are written.
 */
export interface ImportStep {
  /** The original's table. */
  table: string;
  /** This service's table whose id sequence follows the kept ids (none when ids are new). */
  target?: string;
  /** Columns the step needs (a source without one of them is not the original's schema). */
  columns: readonly string[];
  /** Columns read when the source has them (later or earlier versions of the original). */
  optional?: readonly string[];
  /** Columns present in the original that are deliberately not carried, and why. */
  ignored?: Readonly<Record<string, string>>;
  /** SQL expressions read beside the columns (over the source table as `t`). */
  expressions?: (ctx: ImportContext) => string[];
  /** Before the first batch: reads what the step needs of the source (e.g. its content types). */
  init?(ctx: ImportContext, tables: ReadonlyMap<string, ReadonlySet<string>>): Promise<void>;
  /** Rows are only ever added (audit history): a source row changed since its import is not written again. */
  appendOnly?: boolean;
  batchSize?: number;
  /** Rows of this batch that are new or changed since the last run. */
  prepare(rows: SourceRow[], ctx: ImportContext, columns: ReadonlySet<string>): Promise<Prepared[]>;
  /** Writes the rows; a step whose ids are new here answers source id → id here. */
  write(tx: Tx, rows: Prepared[], ctx: ImportContext): Promise<void> | Promise<Map<number, number>>;
  /** Source rows that are present here (written now, or unchanged since an earlier run). */
  present?(rows: SourceRow[], ctx: ImportContext): void;
}

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const textOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : asText(v));

/** The user a row belongs to, if present here; otherwise the row is rejected with the reason. */
export function ownerOrReject(
  ctx: ImportContext,
  table: string,
  id: number,
  userId: unknown,
  what = 'its user',
): number | null {
  const uid = Number(userId);
  if (ctx.users.has(uid)) return uid;
  ctx.report.reject(
    table,
    id,
    ctx.erased.has(uid)
      ? `${what} (users_user ${String(uid)}) was erased in this service since the import`
      : `${what} (users_user ${String(uid)}) was not imported`,
  );
  return null;
}
