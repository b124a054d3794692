import { sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { recordAudit } from '../audit/index.js';
import { createFernetReader, FernetDecryptError, LegacyKeyError, parseFernetKeys } from './fernet.js';
import { readLedger, writeLedger } from './ledger.js';
import { NOT_CARRIED } from './not-carried.js';
import { createReport, type ImportReport } from './report.js';
import { openSource, quote, type SourceDatabase, type SourceRow } from './source.js';
import type { ImportContext, ImportStep } from './step.js';
import { auditHistoryStep } from './steps/audit-history.js';
import { adminNotesStep, journalStep } from './steps/content.js';
import { backupCodesStep, passwordHistoryStep, resetTokensStep } from './steps/credentials.js';
import {
  consentsStep,
  deletionRequestsStep,
  deletionSchedulesStep,
  exportRequestsStep,
  policyVersionsStep,
} from './steps/privacy.js';
import { ENCRYPTED_PROFILE_COLUMNS, ensureProfiles, profilesStep } from './steps/profiles.js';
import { usersStep } from './steps/users.js';
import { bumpSequence, createRowDigest, rowsOf } from './writer.js';

/**
 * `import:django` (docs/migrating-from-django.md): reads the original's database in one read-only
 * snapshot and writes it here, table by table in dependency order, one transaction per batch together
 * with the ledger of what was written. Nothing is written before the key and the target are checked.
 */
export interface ImportOptions {
  sourceUrl: string;
  /** LEGACY_FIELD_ENCRYPTION_KEY: the original's FIELD_ENCRYPTION_KEY (several keys: comma-separated). */
  legacyKey: string | undefined;
  dryRun: boolean;
  /** Progress lines for long runs (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface ImportDeps {
  db: Db;
  cipher: FieldCipher;
  blindIndexKey: Buffer;
  timeZone: string;
  deletionGraceDays: number;
  now: () => Date;
}

/** A run that stopped before writing anything: the reason is for the operator. */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
}

const steps = (): ImportStep[] => [
  policyVersionsStep(),
  usersStep(),
  profilesStep(),
  journalStep(),
  adminNotesStep(),
  consentsStep(),
  deletionRequestsStep(),
  exportRequestsStep(),
  deletionSchedulesStep(),
  passwordHistoryStep(),
  backupCodesStep(),
  resetTokensStep(),
  auditHistoryStep(),
];

export async function importFromDjango(deps: ImportDeps, opts: ImportOptions): Promise<ImportReport> {
  const fernet = createFernetReader(refuseOn(LegacyKeyError, () => parseFernetKeys(opts.legacyKey)));
  const source = await openSource(opts.sourceUrl).catch((err: unknown) => {
    throw new ImportRefused(
      `cannot read the source database: ${err instanceof Error ? err.message : String(err)}`,
    );
  });
  try {
    const tables = await source.tables();
    if (!tables.has('users_user')) {
      throw new ImportRefused(
        `${source.label} has no users_user table: it is not a database of the original`,
      );
    }
    await checkKey(source, tables, fernet);
    const ctx = await context(deps, source, fernet, opts.dryRun);
    await checkTarget(ctx);
    const all = steps();
    const known = new Set<string>(all.map((s) => s.table));
    for (const step of all) {
      const columns = tables.get(step.table);
      if (!columns) {
        if (step.table !== 'auditlog_logentry')
          ctx.report.note(`${step.table} is not in the source: nothing to carry`);
        continue;
      }
      await runStep(ctx, step, columns, opts.progress);
    }
    if (!opts.dryRun) {
      const made = await ensureProfiles(ctx);
      if (made > 0)
        ctx.report.note(
          `${String(made)} imported users had no profile in the original: an empty one was made`,
        );
    }
    await reportOtherTables(ctx, tables, known);
    const written = [...ctx.report.tables.values()].some((c) => c.imported + c.updated > 0);
    if (!opts.dryRun && written) await auditRun(ctx);
    return ctx.report;
  } finally {
    await source.close();
  }
}

function refuseOn<T>(kind: new (m: string) => Error, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof kind) throw new ImportRefused(err.message);
    throw err;
  }
}

/**
 * SAFETY: a wrong key would reject every profile; it is caught before anything is written, on the
 * first encrypted value of the source (a profile field or a 2FA secret).
 */
async function checkKey(
  source: SourceDatabase,
  tables: Map<string, Set<string>>,
  fernet: ReturnType<typeof createFernetReader>,
): Promise<void> {
  const candidates: { table: string; column: string }[] = [
    ...ENCRYPTED_PROFILE_COLUMNS.filter((c) => tables.get('users_userprofile')?.has(c)).map((column) => ({
      table: 'users_userprofile',
      column,
    })),
    ...(tables.get('users_user')?.has('totp_secret') ? [{ table: 'users_user', column: 'totp_secret' }] : []),
  ];
  for (const { table, column } of candidates) {
    const rows = await source.query<{ id: string; value: string }>(
      `select id, ${quote(column)} as value from ${quote(table)} where ${quote(column)} like 'gAAAAA%' order by id limit 1`,
    );
    const first = rows[0];
    if (!first) continue;
    try {
      fernet.open(first.value);
      return;
    } catch (err) {
      if (!(err instanceof FernetDecryptError)) throw err;
      throw new ImportRefused(
        `LEGACY_FIELD_ENCRYPTION_KEY does not decrypt the original's data (${table} ${first.id}, column ${column}): ` +
          "give it the original's FIELD_ENCRYPTION_KEY. Nothing was written.",
      );
    }
  }
}

async function context(
  deps: ImportDeps,
  source: SourceDatabase,
  fernet: ReturnType<typeof createFernetReader>,
  dryRun: boolean,
): Promise<ImportContext> {
  const keys = new Map<number, Buffer>();
  const erased = new Set(
    rowsOf<{ id: string | number }>(
      await deps.db.execute(sql`select id from users where anonymized_at is not null`),
    ).map((r) => Number(r.id)),
  );
  return {
    db: deps.db,
    source,
    cipher: deps.cipher,
    fernet,
    report: createReport(),
    digest: createRowDigest(deps.blindIndexKey),
    dryRun,
    startedAt: deps.now(),
    timeZone: deps.timeZone,
    deletionGraceDays: deps.deletionGraceDays,
    users: new Map(),
    erased,
    policies: new Set(),
    async deks(userIds) {
      const missing = [...new Set(userIds)].filter((id) => !keys.has(id));
      if (missing.length > 0) {
        const found = rowsOf<{ user_id: string | number; master_key_id: string; wrapped_key: string }>(
          await deps.db.execute(
            sql`select user_id, master_key_id, wrapped_key from data_keys
                 where user_id in (select value::bigint from json_array_elements_text(${JSON.stringify(missing)}::json))`,
          ),
        );
        for (const f of found) {
          const id = Number(f.user_id);
          keys.set(id, deps.cipher.unwrap(id, { masterKeyId: f.master_key_id, wrappedKey: f.wrapped_key }));
        }
        for (const id of missing) if (!keys.has(id)) keys.set(id, deps.cipher.newDataKey());
      }
      const wanted = new Set(userIds);
      return (userId: number) => {
        const key = wanted.has(userId) ? keys.get(userId) : undefined;
        if (!key) throw new Error(`no data key was loaded for user ${String(userId)}`);
        return key;
      };
    },
  };
}

/**
 * SAFETY: the import fills a database that holds nothing but earlier imports: users made here (after
 * a move, or by starting the service first) would collide with the original's ids and addresses. A
 * privacy policy the service wrote at its first start, which nobody has agreed to, makes way for the
 * original's versions.
 */
async function checkTarget(ctx: ImportContext): Promise<void> {
  const foreign = rowsOf<{ n: string | number }>(
    await ctx.db.execute(sql`
      select count(*) as n from users u
       where not exists (select 1 from django_import_rows r where r.source_table = 'users_user' and r.target_id = u.id)`),
  );
  const n = Number(foreign[0]?.n ?? 0);
  if (n > 0) {
    throw new ImportRefused(
      `this database already has ${String(n)} user${n === 1 ? '' : 's'} that ${n === 1 ? 'was' : 'were'} not imported from the original ` +
        '(made here, e.g. by DJANGO_SUPERUSER_* at a first start): import into a new, empty database ' +
        '(npm run cli -- db:migrate, then import:django, then start the service). Nothing was written.',
    );
  }
  const unimportedPolicies = sql`from privacy_policy_versions p
     where not exists (select 1 from django_import_rows r where r.source_table = 'users_privacypolicyversion' and r.target_id = p.id)
       and not exists (select 1 from user_consents c where c.privacy_policy_version_id = p.id)
       and not exists (select 1 from consent_events e where e.privacy_policy_version_id = p.id)`;
  const defaults = rowsOf<{ id: string | number }>(
    await ctx.db.execute(sql`select p.id ${unimportedPolicies}`),
  );
  if (defaults.length === 0) return;
  ctx.report.note(
    `${String(defaults.length)} privacy policy version(s) written here at the first start, agreed to by nobody, ${ctx.dryRun ? 'would be' : 'were'} replaced by the original's`,
  );
  if (!ctx.dryRun) await ctx.db.execute(sql`delete ${unimportedPolicies}`);
}

const PROGRESS_EVERY_MS = 5000;

async function runStep(
  ctx: ImportContext,
  step: ImportStep,
  present: ReadonlySet<string>,
  progress?: (line: string) => void,
): Promise<void> {
  const missing = step.columns.filter((c) => !present.has(c));
  if (missing.length > 0) {
    throw new ImportRefused(
      `${step.table} has no column ${missing.join(', ')}: this version of the original is not one the importer knows. Nothing more was written.`,
    );
  }
  const read = [...step.columns, ...(step.optional ?? []).filter((c) => present.has(c))];
  const unknown = [...present].filter((c) => !read.includes(c) && !(c in (step.ignored ?? {})));
  for (const c of unknown)
    ctx.report.alter(step.table, null, `column ${c} is unknown to the importer: not carried`);
  await step.init?.(ctx, await ctx.source.tables());
  const digest = ctx.digest;
  const counts = ctx.report.counts(step.table);
  counts.source = await ctx.source.count(step.table);
  const select = [...read.map((c) => `t."${c}"`), ...(step.expressions?.(ctx) ?? [])];
  let done = 0;
  let lastShown = Date.now();
  const started = Date.now();
  for await (const rows of ctx.source.batches(step.table, select, step.batchSize ?? 2000)) {
    const ledger = await readLedger(
      ctx.db,
      step.table,
      rows.map((r) => Number(r.id)),
    );
    const digests = new Map(rows.map((r) => [Number(r.id), digest(r)]));
    const isUnchanged = (r: SourceRow) => ledger.get(Number(r.id))?.digest === digests.get(Number(r.id));
    const unchanged = rows.filter(isUnchanged);
    const changed = rows.filter((r) => !isUnchanged(r));
    counts.unchanged += unchanged.length;
    step.present?.(unchanged, ctx);
    let fresh = changed;
    if (step.appendOnly) {
      fresh = changed.filter((r) => !ledger.has(Number(r.id)));
      for (const r of changed.filter((r) => ledger.has(Number(r.id)))) {
        ctx.report.alter(
          step.table,
          Number(r.id),
          'changed in the original since it was imported: history here is append-only, kept as first imported',
        );
      }
    }
    const prepared = await step.prepare(fresh, ctx, present);
    if (!ctx.dryRun && prepared.length > 0) {
      await ctx.db.transaction(async (tx) => {
        const ids = await step.write(tx, prepared, ctx);
        if (ids) for (const p of prepared) p.targetId = ids.get(p.sourceId) ?? p.targetId;
        await writeLedger(
          tx,
          step.table,
          prepared.map((p) => ({
            sourceId: p.sourceId,
            targetId: p.targetId,
            digest: digests.get(p.sourceId) ?? '',
          })),
          ctx.startedAt,
        );
      });
    }
    const writtenIds = new Set(prepared.map((p) => p.sourceId));
    step.present?.(
      fresh.filter((r) => writtenIds.has(Number(r.id))),
      ctx,
    );
    for (const p of prepared) {
      if (ledger.has(p.sourceId)) counts.updated += 1;
      else counts.imported += 1;
    }
    done += rows.length;
    if (progress && Date.now() - lastShown >= PROGRESS_EVERY_MS) {
      lastShown = Date.now();
      const rate = Math.round(done / ((Date.now() - started) / 1000));
      progress(
        `${step.table}: ${done.toLocaleString('en')} / ${counts.source.toLocaleString('en')} rows (${String(rate)} rows/s)`,
      );
    }
  }
  if (!ctx.dryRun && step.target) await bumpSequence(ctx.db, step.target);
  progress?.(
    `${step.table}: done, ${String(counts.source)} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

async function reportOtherTables(
  ctx: ImportContext,
  tables: Map<string, Set<string>>,
  known: Set<string>,
): Promise<void> {
  for (const table of [...tables.keys()].sort()) {
    if (known.has(table)) continue;
    const rows = await ctx.source.count(table);
    const why = NOT_CARRIED[table];
    if (why) ctx.report.skip(table, rows, why);
    else if (rows > 0)
      ctx.report.alter(
        table,
        null,
        `table unknown to the importer: its ${String(rows)} rows are not carried`,
      );
  }
}

/** The import in the audit trail: actor system, the counts per table, never a value. */
async function auditRun(ctx: ImportContext): Promise<void> {
  await recordAudit(
    ctx.db,
    { actor: null, meta: null },
    {
      action: 'import',
      resourceType: 'django_import',
      metadata: {
        source: ctx.source.label,
        tables: ctx.report.summary(),
        problems: ctx.report.problems.length,
      },
    },
  );
}
