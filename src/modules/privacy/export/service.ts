import type { DbOrTx } from '../../../db/client.js';
import type { Actor, RequestMeta } from '../../../lib/actor.js';
import { sha256Hex } from '../../../lib/crypto/hash.js';
import { ApiError, badRequest, notFound, withCause } from '../../../lib/errors.js';
import { type Page, paginate, type PageLink } from '../../../lib/paging.js';
import { unavailableDependency } from '../../../lib/unavailable.js';
import { recordAudit } from '../../audit/index.js';
import { buildExport, EXPORT_SECTIONS, exportFilename, serializeExport } from './document.js';
import {
  documentAad,
  errorName,
  EXPORT_RESOURCE,
  type ExportBuildDeps,
  exportTtlMs,
  FAILURE_MESSAGE,
  processPendingExports,
  purgeExpiredExports,
} from './processing.js';
import { createExportRepo, type ExportRow, type ServedExport } from './repo.js';
import type { ExportFile, ExportJobResponse, ExportStatus } from './types.js';

/**
 * Data export (docs/privacy.md#data-export): the synchronous download of the original, and the
 * addition's export jobs (request → background build → encrypted document kept EXPORT_TTL_HOURS →
 * download by the owner, or once with the e-mailed token).
 */
export interface ExportDeps extends ExportBuildDeps {
  fmt: (d: Date) => string;
  /** The job runner: a request enqueues its build (`export.build`) in its own transaction. */
  jobs: { enqueue(job: string, data: unknown, tx?: DbOrTx): Promise<void>; kick(): void };
}

/** The on-demand job that builds pending exports (docs/operations.md#background-jobs). */
export const EXPORT_BUILD_JOB = 'export.build';

type Caller = Pick<Actor, 'userId' | 'role'>;

const STATUS_DISPLAY: Record<ExportStatus, string> = {
  pending: 'Pending',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
};

export function createExportService(deps: ExportDeps) {
  const { db, cipher, dataKeys, logger, fmt, now, config } = deps;
  const ttlMs = exportTtlMs(config);

  const jobObject = (row: ExportRow): ExportJobResponse => ({
    id: row.id,
    requested_at: fmt(row.requestedAt),
    status: row.status,
    status_display: STATUS_DISPLAY[row.status],
    completed_at: row.completedAt ? fmt(row.completedAt) : null,
    download_count: row.downloadCount,
    expires_at: row.expiresAt ? fmt(row.expiresAt) : null,
  });

  /** `GET data-export/`: built, recorded and returned in the request (as the original). */
  async function exportNow(actor: Caller, meta: RequestMeta): Promise<ExportFile> {
    const requestedAt = now();
    try {
      return await db.transaction(async (tx) => {
        const repo = createExportRepo(tx);
        const row = await repo.insertReturningId({ userId: actor.userId, requestedAt, status: 'processing' });
        if (!row) throw new Error('export request not recorded');
        // Inside the transaction: the document lists this request as `processing`.
        const body = serializeExport(await buildExport(deps, actor.userId, tx));
        const completedAt = now();
        await repo.update(row.id, {
          status: 'completed',
          completedAt,
          downloadCount: 1,
          expiresAt: new Date(completedAt.getTime() + ttlMs),
        });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'export',
            resourceType: EXPORT_RESOURCE,
            resourceId: row.id,
            subjectUserId: actor.userId,
            fields: [...EXPORT_SECTIONS],
            metadata: { mode: 'sync' },
          },
        );
        return { filename: exportFilename(actor.userId, completedAt), body };
      });
    } catch (err) {
      logger.error({ err: errorName(err), user_id: actor.userId }, 'data export failed');
      try {
        await db.transaction(async (tx) => {
          const row = await createExportRepo(tx).insertReturningId({
            userId: actor.userId,
            requestedAt,
            status: 'failed',
            errorMessage: FAILURE_MESSAGE,
          });
          await recordAudit(
            tx,
            { actor, meta },
            {
              action: 'export',
              resourceType: EXPORT_RESOURCE,
              resourceId: row?.id ?? null,
              subjectUserId: actor.userId,
              outcome: 'failure',
              metadata: { mode: 'sync' },
            },
          );
        });
      } catch (recordErr) {
        logger.error({ err: errorName(recordErr) }, 'failed data export could not be recorded');
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
  async function request(actor: Caller, meta: RequestMeta): Promise<ExportJobResponse> {
    return db.transaction(async (tx) => {
      const repo = createExportRepo(tx);
      await repo.lockRequester(actor.userId);
      const busy = await repo.inProgress(actor.userId);
      if (busy) throw badRequest('An export is already in progress', undefined, { request_id: busy.id });
      const row = await repo.insertReturningRow({
        userId: actor.userId,
        requestedAt: now(),
        status: 'pending',
      });
      if (!row) throw new Error('export request not recorded');
      await deps.jobs.enqueue(EXPORT_BUILD_JOB, undefined, tx);
      await recordAudit(
        tx,
        { actor, meta },
        {
          action: 'create',
          resourceType: EXPORT_RESOURCE,
          resourceId: row.id,
          subjectUserId: actor.userId,
          fields: ['status'],
          changes: { status: [null, 'pending'] },
        },
      );
      return jobObject(row);
    });
  }

  async function list(link: PageLink, actor: Caller, query: unknown): Promise<Page<ExportJobResponse>> {
    const repo = createExportRepo(db);
    return paginate(
      link,
      query,
      (limit, offset) => repo.page(actor.userId, limit, offset),
      () => repo.count(actor.userId),
      (rows) => rows.map(jobObject),
    );
  }

  async function get(actor: Caller, id: number): Promise<ExportJobResponse> {
    const row = await createExportRepo(db).findOwn(id, actor.userId);
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
    return db.transaction(async (tx) => {
      const repo = createExportRepo(tx);
      const at = now();
      let rows: ServedExport[] = [];
      let via: 'owner' | 'token' = 'owner';
      if (actor) rows = await repo.serveToOwner(id, actor.userId, at);
      if (rows.length === 0 && token) {
        via = 'token';
        rows = await repo.serveWithToken(id, sha256Hex(token), at);
      }
      const row = rows[0];
      if (!row?.document) throw notFound();
      const dek = await dataKeys.find(tx, row.userId);
      if (!dek) throw notFound(); // erased: the document is unreadable (crypto-shredded)
      const body = cipher.decrypt(dek, row.document, documentAad(id));
      await recordAudit(
        tx,
        { actor, meta },
        {
          action: 'export_downloaded',
          resourceType: EXPORT_RESOURCE,
          resourceId: id,
          subjectUserId: row.userId,
          metadata: { via },
        },
      );
      return { filename: exportFilename(row.userId, row.completedAt ?? at), body };
    });
  }

  return {
    exportNow,
    request,
    list,
    get,
    download,
    /** After a request committed: hand its build to the worker now rather than at the next sweep. */
    kick: () => {
      deps.jobs.kick();
    },
    /** Builds pending requests (jobs `export.build` and `export.build-pending`). */
    processPending: () => processPendingExports(deps),
    /** Removes expired documents (job `exports.purge`, CLI `exports:purge`). */
    purgeExpired: () => purgeExpiredExports(deps),
  };
}
export type ExportService = ReturnType<typeof createExportService>;

/** Resolves when the export service's background builds are done (tests). */
