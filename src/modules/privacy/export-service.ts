import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { and, count, desc, eq, gt, inArray, isNotNull, lte, sql } from 'drizzle-orm';
import type { Container } from '../../container.js';
import { dataExportRequests, users } from '../../db/schema.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { fieldAad } from '../../lib/crypto/field-cipher.js';
import { sha256Hex } from '../../lib/crypto/hash.js';
import { ApiError, badRequest, notFound, withCause } from '../../lib/errors.js';
import { unavailableDependency } from '../../lib/unavailable.js';
import { type Page, paginate } from '../../lib/paging.js';
import { recordAudit, recordAudits } from '../audit/recorder.js';
import { EXPORT_SECTIONS, buildExport, exportFilename, serializeExport } from './export-document.js';

/**
 * Data export (spec privacy.md §3): the synchronous download of the original, and the addition's
 * export jobs (request → background build → encrypted document kept EXPORT_TTL_HOURS → download
 * by the owner, or once with the e-mailed token).
 */
type ExportRow = typeof dataExportRequests.$inferSelect;
type Caller = Pick<Actor, 'userId' | 'role'>;

const RESOURCE = 'data_export_request';
const STATUS_DISPLAY: Record<ExportRow['status'], string> = {
  pending: 'Pending',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
};
// PRIVACY: the stored error is generic; the cause (which could quote data) goes to the log only.
const FAILURE_MESSAGE = 'The export could not be generated.';
const MAX_PER_RUN = 25;

const HOUR_MS = 3_600_000;
const documentAad = (id: number) => fieldAad('data_export_requests', 'document', id);

export interface ExportFile {
  filename: string;
  body: string;
}

export function createExportService(c: Container) {
  const ttlMs = c.config.retention.exportTtlHours * HOUR_MS;

  const jobObject = (row: ExportRow) => ({
    id: row.id,
    requested_at: c.fmt(row.requestedAt),
    status: row.status,
    status_display: STATUS_DISPLAY[row.status],
    completed_at: row.completedAt ? c.fmt(row.completedAt) : null,
    download_count: row.downloadCount,
    expires_at: row.expiresAt ? c.fmt(row.expiresAt) : null,
  });

  /** `GET data-export/`: built, recorded and returned in the request (as the original). */
  async function exportNow(actor: Caller, meta: RequestMeta): Promise<ExportFile> {
    const requestedAt = c.now();
    try {
      return await c.db.transaction(async (tx) => {
        const [row] = await tx
          .insert(dataExportRequests)
          .values({ userId: actor.userId, requestedAt, status: 'processing' })
          .returning({ id: dataExportRequests.id });
        if (!row) throw new Error('export request not recorded');
        // Inside the transaction: the document lists this request as `processing`.
        const body = serializeExport(await buildExport(c, actor.userId, tx));
        const completedAt = c.now();
        await tx
          .update(dataExportRequests)
          .set({
            status: 'completed',
            completedAt,
            downloadCount: 1,
            expiresAt: new Date(completedAt.getTime() + ttlMs),
          })
          .where(eq(dataExportRequests.id, row.id));
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'export',
            resourceType: RESOURCE,
            resourceId: row.id,
            subjectUserId: actor.userId,
            fields: [...EXPORT_SECTIONS],
            metadata: { mode: 'sync' },
          },
        );
        return { filename: exportFilename(actor.userId, completedAt), body };
      });
    } catch (err) {
      c.logger.error({ err: errorName(err), user_id: actor.userId }, 'data export failed');
      try {
        await c.db.transaction(async (tx) => {
          const [row] = await tx
            .insert(dataExportRequests)
            .values({ userId: actor.userId, requestedAt, status: 'failed', errorMessage: FAILURE_MESSAGE })
            .returning({ id: dataExportRequests.id });
          await recordAudit(
            tx,
            { actor, meta },
            {
              action: 'export',
              resourceType: RESOURCE,
              resourceId: row?.id ?? null,
              subjectUserId: actor.userId,
              outcome: 'failure',
              metadata: { mode: 'sync' },
            },
          );
        });
      } catch (recordErr) {
        c.logger.error({ err: errorName(recordErr) }, 'failed data export could not be recorded');
      }
      // An outage keeps its own answer (503); anything else is a generic 500 with its cause logged.
      if (err instanceof ApiError || unavailableDependency(err)) throw err;
      throw withCause(
        new ApiError(500, 'export_failed', 'Failed to export data. Please try again later.'),
        err,
      );
    }
  }

  /** `POST data-export/`: queues a job; one pending or processing export per user. */
  async function request(actor: Caller, meta: RequestMeta) {
    return c.db.transaction(async (tx) => {
      // Serialises concurrent requests of the same user, so the one-in-progress rule holds.
      await tx.select({ id: users.id }).from(users).where(eq(users.id, actor.userId)).for('update');
      const [busy] = await tx
        .select({ id: dataExportRequests.id })
        .from(dataExportRequests)
        .where(
          and(
            eq(dataExportRequests.userId, actor.userId),
            inArray(dataExportRequests.status, ['pending', 'processing']),
          ),
        )
        .orderBy(desc(dataExportRequests.requestedAt))
        .limit(1);
      if (busy) throw badRequest('An export is already in progress', undefined, { request_id: busy.id });
      const [row] = await tx
        .insert(dataExportRequests)
        .values({ userId: actor.userId, requestedAt: c.now(), status: 'pending' })
        .returning();
      if (!row) throw new Error('export request not recorded');
      await recordAudit(
        tx,
        { actor, meta },
        {
          action: 'create',
          resourceType: RESOURCE,
          resourceId: row.id,
          subjectUserId: actor.userId,
          fields: ['status'],
          changes: { status: [null, 'pending'] },
        },
      );
      return jobObject(row);
    });
  }

  async function list(
    req: FastifyRequest,
    actor: Caller,
    query: unknown,
  ): Promise<Page<ReturnType<typeof jobObject>>> {
    const own = eq(dataExportRequests.userId, actor.userId);
    return paginate(
      req,
      query,
      (limit, offset) =>
        c.db
          .select()
          .from(dataExportRequests)
          .where(own)
          .orderBy(desc(dataExportRequests.requestedAt), desc(dataExportRequests.id))
          .limit(limit)
          .offset(offset),
      async () => (await c.db.select({ n: count() }).from(dataExportRequests).where(own))[0]?.n ?? 0,
      (rows) => rows.map(jobObject),
    );
  }

  async function get(actor: Caller, id: number) {
    const [row] = await c.db
      .select()
      .from(dataExportRequests)
      .where(and(eq(dataExportRequests.id, id), eq(dataExportRequests.userId, actor.userId)))
      .limit(1);
    if (!row) throw notFound();
    return jobObject(row);
  }

  /**
   * `GET data-export/<id>/download/`: the owner (access token) until expiry, or anyone holding the
   * e-mailed token, ONCE (the token's hash is cleared in the same statement that serves it).
   * Expired, purged, unknown or someone else's → 404 alike.
   */
  async function download(
    actor: Caller | null,
    meta: RequestMeta,
    id: number,
    token: string | undefined,
  ): Promise<ExportFile> {
    return c.db.transaction(async (tx) => {
      const now = c.now();
      const servable = and(
        eq(dataExportRequests.id, id),
        eq(dataExportRequests.status, 'completed'),
        isNotNull(dataExportRequests.document),
        gt(dataExportRequests.expiresAt, now),
      );
      const served = {
        userId: dataExportRequests.userId,
        document: dataExportRequests.document,
        completedAt: dataExportRequests.completedAt,
      };
      const bump = sql`${dataExportRequests.downloadCount} + 1`;
      let rows: { userId: number; document: string | null; completedAt: Date | null }[] = [];
      let via: 'owner' | 'token' = 'owner';
      if (actor) {
        rows = await tx
          .update(dataExportRequests)
          .set({ downloadCount: bump })
          .where(and(servable, eq(dataExportRequests.userId, actor.userId)))
          .returning(served);
      }
      if (rows.length === 0 && token) {
        via = 'token';
        rows = await tx
          .update(dataExportRequests)
          .set({ downloadCount: bump, downloadTokenHash: null })
          .where(and(servable, eq(dataExportRequests.downloadTokenHash, sha256Hex(token))))
          .returning(served);
      }
      const row = rows[0];
      if (!row?.document) throw notFound();
      const dek = await c.dataKeys.find(tx, row.userId);
      if (!dek) throw notFound(); // erased: the document is unreadable (crypto-shredded)
      const body = c.cipher.decrypt(dek, row.document, documentAad(id));
      await recordAudit(
        tx,
        { actor, meta },
        {
          action: 'export_downloaded',
          resourceType: RESOURCE,
          resourceId: id,
          subjectUserId: row.userId,
          metadata: { via },
        },
      );
      return { filename: exportFilename(row.userId, row.completedAt ?? now), body };
    });
  }

  return { exportNow, request, list, get, download };
}
export type ExportService = ReturnType<typeof createExportService>;

const errorName = (err: unknown) => (err instanceof Error ? err.name : 'unknown');

/**
 * Builds pending export jobs (the job, the POST's background kick and tests call this). Each job is
 * claimed with `FOR UPDATE SKIP LOCKED` and built, stored and completed in that one transaction, so
 * several instances never build the same job and a crash leaves it `pending` for the next run.
 */
export async function processPendingExports(c: Container): Promise<{ completed: number; failed: number }> {
  const result = { completed: 0, failed: 0 };
  for (let i = 0; i < MAX_PER_RUN; i += 1) {
    const outcome = await processOne(c);
    if (outcome === null) break;
    result[outcome] += 1;
  }
  return result;
}

async function processOne(c: Container): Promise<'completed' | 'failed' | null> {
  const ttlMs = c.config.retention.exportTtlHours * HOUR_MS;
  let claimed: number | null = null;
  try {
    const done = await c.db.transaction(async (tx) => {
      // PRIVACY: the person's row is locked too (as by every writer about them), skipping anyone
      // being erased: the job never waits on nor deadlocks with an erasure, which deletes the job.
      const claim = await tx.execute(sql`
        select r.id, r.user_id from data_export_requests r join users u on u.id = r.user_id
        where r.status = 'pending' order by r.requested_at, r.id limit 1
        for update of r skip locked for key share of u skip locked`);
      const first = (claim as { rows: { id: number | string; user_id: number | string }[] }).rows[0];
      if (!first) return null;
      const job = { id: Number(first.id), userId: Number(first.user_id) };
      claimed = job.id;
      await tx
        .update(dataExportRequests)
        .set({ status: 'processing' })
        .where(eq(dataExportRequests.id, job.id));
      const doc = await buildExport(c, job.userId, tx);
      const dek = await c.dataKeys.obtain(tx, job.userId);
      const token = randomBytes(32).toString('base64url');
      const completedAt = c.now();
      await tx
        .update(dataExportRequests)
        .set({
          status: 'completed',
          completedAt,
          expiresAt: new Date(completedAt.getTime() + ttlMs),
          // PRIVACY: encrypted with the user's key, so erasure (key destruction) shreds it too.
          document: c.cipher.encrypt(dek, serializeExport(doc), documentAad(job.id)),
          downloadTokenHash: sha256Hex(token),
          errorMessage: null,
        })
        .where(eq(dataExportRequests.id, job.id));
      await recordAudit(
        tx,
        { actor: null, meta: null },
        {
          action: 'export',
          resourceType: RESOURCE,
          resourceId: job.id,
          subjectUserId: job.userId,
          fields: [...EXPORT_SECTIONS],
          metadata: { mode: 'async' },
        },
      );
      return {
        id: job.id,
        token,
        email: doc.user_account.email,
        name: doc.user_account.first_name,
      };
    });
    if (!done) return null;
    const base = c.config.frontendUrl.replace(/\/+$/, '');
    c.mailer.send('export_ready', done.email, {
      name: done.name,
      link: `${base}/data-export/download?id=${String(done.id)}&token=${done.token}`,
      apiPath: `/api/popia/data-export/${String(done.id)}/download/?token=${done.token}`,
      hours: c.config.retention.exportTtlHours,
    });
    return 'completed';
  } catch (err) {
    if (claimed === null) throw err;
    const id: number = claimed;
    c.logger.error({ err: errorName(err), export_request_id: id }, 'data export job failed');
    await c.db
      .update(dataExportRequests)
      .set({ status: 'failed', errorMessage: FAILURE_MESSAGE })
      .where(and(eq(dataExportRequests.id, id), eq(dataExportRequests.status, 'pending')));
    return 'failed';
  }
}

/** Removes export documents past their expiry (rows are kept as the record of the export). */
export async function purgeExpiredExports(c: Container): Promise<{ purged: number }> {
  return c.db.transaction(async (tx) => {
    const purged = await tx
      .update(dataExportRequests)
      .set({ document: null, downloadTokenHash: null })
      .where(and(isNotNull(dataExportRequests.document), lte(dataExportRequests.expiresAt, c.now())))
      .returning({ id: dataExportRequests.id, userId: dataExportRequests.userId });
    await recordAudits(
      tx,
      { actor: null, meta: null },
      purged.map((row) => ({
        action: 'delete',
        resourceType: RESOURCE,
        resourceId: row.id,
        subjectUserId: row.userId,
        fields: ['document'],
        reason: 'expired',
      })),
    );
    return { purged: purged.length };
  });
}

/**
 * Background processing right after a request (so an export is ready within seconds on an idle
 * server, without waiting for the next scheduled run). Runs coalesce per container; errors are
 * logged, never thrown. `exportWorkIdle` resolves when none is running (shutdown, tests).
 */
const running = new WeakMap<Container, { current: Promise<void>; again: boolean }>();

export function kickExportProcessing(c: Container): void {
  const state = running.get(c);
  if (state) {
    state.again = true;
    return;
  }
  const entry = { current: Promise.resolve(), again: false };
  running.set(c, entry);
  entry.current = (async () => {
    try {
      do {
        entry.again = false;
        await processPendingExports(c);
      } while (entry.again);
    } catch (err) {
      c.logger.error({ err: errorName(err) }, 'background data export processing failed');
    } finally {
      running.delete(c);
    }
  })();
}

export async function exportWorkIdle(c: Container): Promise<void> {
  for (let state = running.get(c); state; state = running.get(c)) await state.current;
}
