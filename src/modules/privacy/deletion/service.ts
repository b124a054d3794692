import type { Config } from '../../../config.js';
import type { Db } from '../../../db/client.js';
import { type Actor, isStaff, type RequestMeta } from '../../../lib/actor.js';
import { badRequest, forbidden, notFound, validationError } from '../../../lib/errors.js';
import type { Log } from '../../../lib/log.js';
import { type Page, paginate, type PageLink } from '../../../lib/paging.js';
import { unavailableDependency } from '../../../lib/unavailable.js';
import { recordAudit } from '../../audit/index.js';
import { eraseUser, type ErasureDeps, SUPERUSER_NOT_ERASABLE } from './erasure.js';
import { createDeletionRepo, type DeletionView } from './repo.js';
import {
  type CreateDeletionInput,
  type DeletionRequestResponse,
  type ExecuteResponse,
  REJECTION_NOTES_REQUIRED,
  type ReviewSubmission,
  STATUS_DISPLAY,
} from './types.js';

/**
 * Deletion requests (docs/privacy.md#deletion-requests): a person asks, an admin reviews, the
 * erasure runs when the grace period has passed (or at once when an admin executes it), and the
 * person may cancel until then. Every step is audited; e-mails go out after commit.
 */
const RESOURCE = 'data_deletion_request';
const NOT_FOUND = () => notFound('Deletion request not found');
const already = (status: string) => badRequest(`Request is already ${status}`);
const DAY_MS = 86_400_000;

export function presentDeletion(fmt: (d: Date) => string, row: DeletionView): DeletionRequestResponse {
  const ts = (d: Date | null) => (d ? fmt(d) : null);
  return {
    id: row.id,
    requested_at: fmt(row.requestedAt),
    status: row.status,
    status_display: STATUS_DISPLAY[row.status],
    reason: row.reason,
    reviewed_by: row.reviewedBy,
    reviewed_by_email: row.reviewedBy === null ? null : row.reviewedByEmail,
    reviewed_at: ts(row.reviewedAt),
    admin_notes: row.adminNotes,
    completed_at: ts(row.completedAt),
    scheduled_for: ts(row.scheduledFor),
    cancelled_at: ts(row.cancelledAt),
  };
}

/** Erasures of approved requests whose grace period has passed (job and CLI). */
export interface DueDeletionDeps extends ErasureDeps {
  db: Db;
  logger: Log;
}

export interface DeletionDeps extends DueDeletionDeps {
  config: ErasureDeps['config'] & { retention: Pick<Config['retention'], 'deletionGraceDays'> };
}

export function createDeletionService(deps: DeletionDeps) {
  const { db, fmt, now, mailer, config } = deps;

  async function view(id: number): Promise<DeletionRequestResponse> {
    const row = await createDeletionRepo(db).view(id);
    if (!row) throw NOT_FOUND();
    return presentDeletion(fmt, row);
  }

  return {
    /** `POST deletion-requests/create/`: one open (pending or approved) request per person. */
    async create(actor: Actor, meta: RequestMeta, input: CreateDeletionInput) {
      const at = now();
      const row = await db.transaction(async (tx) => {
        const repo = createDeletionRepo(tx);
        // Serialises concurrent requests of one person, so only one can be open.
        const me = await repo.lockRequester(actor.userId);
        if (me?.role === 'superuser') throw badRequest(SUPERUSER_NOT_ERASABLE);
        const open = await repo.open(actor.userId);
        if (open) {
          throw badRequest('You already have a pending deletion request', undefined, {
            request_id: open.id,
            requested_at: fmt(open.requestedAt),
          });
        }
        const created = await repo.insert({
          userId: actor.userId,
          requestedAt: at,
          reason: input.reason ?? '',
        });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'deletion_requested',
            resourceType: RESOURCE,
            resourceId: created.id,
            subjectUserId: actor.userId,
            // PRIVACY: the reason is free text; only its presence is recorded.
            fields: created.reason ? ['reason'] : [],
            changes: { status: [null, 'pending'] },
          },
        );
        const to = await repo.recipient(actor.userId);
        if (to)
          await mailer.queue(tx, 'deletion_received', to.email, { name: to.name, requestedAt: fmt(at) });
        return created;
      });
      mailer.kick();
      return presentDeletion(fmt, { ...row, reviewedByEmail: null });
    },

    /** `GET deletion-requests/`: own, or everyone's for staff; newest first. */
    async list(link: PageLink, actor: Actor, query: unknown): Promise<Page<DeletionRequestResponse>> {
      const repo = createDeletionRepo(db);
      const owner = isStaff(actor.role) ? undefined : actor.userId;
      return paginate(
        link,
        query,
        (limit, offset) => repo.page(owner, limit, offset),
        () => repo.count(owner),
        (rows) => rows.map((r) => presentDeletion(fmt, r)),
      );
    },

    /** `POST deletion-requests/<id>/review/` (staff): approve with a grace period, or reject. */
    async review(actor: Actor, meta: RequestMeta, id: number, submitted: ReviewSubmission) {
      const at = now();
      await db.transaction(async (tx) => {
        const repo = createDeletionRepo(tx);
        const before = await repo.lock(id);
        if (!before) throw NOT_FOUND();
        if (before.status !== 'pending') throw already(before.status);
        if (!submitted.ok) throw validationError(submitted.errors);
        const input = submitted.values;
        if (input.action === 'reject' && !input.notes) {
          throw validationError({ notes: [REJECTION_NOTES_REQUIRED] });
        }
        if (before.userId === actor.userId) throw forbidden('You cannot review your own deletion request.');
        const approve = input.action === 'approve';
        const after = await repo.update(id, {
          status: approve ? 'approved' : 'rejected',
          reviewedBy: actor.userId,
          reviewedAt: at,
          adminNotes: input.notes ?? '',
          ...(approve
            ? { scheduledFor: new Date(at.getTime() + config.retention.deletionGraceDays * DAY_MS) }
            : {}),
        });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'deletion_reviewed',
            resourceType: RESOURCE,
            resourceId: id,
            subjectUserId: before.userId,
            fields: [
              'status',
              'reviewed_by',
              'reviewed_at',
              'admin_notes',
              ...(approve ? ['scheduled_for'] : []),
            ],
            changes: { status: [before.status, after.status] },
            metadata: { action: input.action },
          },
        );
        const to = await repo.recipient(after.userId);
        if (to && after.status === 'approved' && after.scheduledFor) {
          await mailer.queue(tx, 'deletion_approved', to.email, {
            name: to.name,
            scheduledFor: fmt(after.scheduledFor),
            signInUrl: `${config.frontendUrl}/login`,
          });
        } else if (to && after.status === 'rejected') {
          await mailer.queue(tx, 'deletion_rejected', to.email, { name: to.name, reason: after.adminNotes });
        }
        return after;
      });
      mailer.kick();
      return view(id);
    },

    /** `POST deletion-requests/<id>/cancel/` (owner): while pending, or approved and not executed. */
    async cancel(actor: Actor, meta: RequestMeta, id: number) {
      const at = now();
      await db.transaction(async (tx) => {
        const repo = createDeletionRepo(tx);
        const before = await repo.lock(id, actor.userId);
        if (!before) throw NOT_FOUND();
        if (before.status !== 'pending' && before.status !== 'approved') throw already(before.status);
        await repo.update(id, { status: 'cancelled', cancelledAt: at });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'deletion_cancelled',
            resourceType: RESOURCE,
            resourceId: id,
            subjectUserId: actor.userId,
            fields: ['status', 'cancelled_at'],
            changes: { status: [before.status, 'cancelled'] },
          },
        );
      });
      return view(id);
    },

    /** `POST deletion-requests/<id>/execute/` (staff): erases now, skipping the grace period. */
    async execute(actor: Actor, meta: RequestMeta, id: number): Promise<ExecuteResponse> {
      const request = await createDeletionRepo(db).view(id);
      if (!request) throw NOT_FOUND();
      if (request.status !== 'approved') throw badRequest('Only approved requests can be executed');
      if (request.userId === actor.userId) throw forbidden('You cannot execute your own deletion request.');
      const result = await eraseUser(deps, request.userId, {
        audit: { actor, meta },
        trigger: 'request',
        requestId: id,
      });
      // Only an erasure for inactivity can find nothing to do.
      if (!result) throw new Error(`erasure of request ${id} did nothing`);
      return { message: 'User data deleted successfully', deletion_summary: JSON.stringify(result.proof) };
    },

    /** Job `deletion.run-due`, CLI `deletion:run-due`. */
    runDue: () => runDueDeletions(deps),
    /** Job `deletion-requests.purge`. */
    purgeCompleted: () => purgeCompletedRequests(deps),
  };
}
export type DeletionService = ReturnType<typeof createDeletionService>;

/**
 * Erases every approved request whose grace period has passed (job `deletion.run-due`, CLI
 * `deletion:run-due`). Each erasure is its own transaction; one failure does not stop the rest.
 */
export async function runDueDeletions(
  deps: DueDeletionDeps,
): Promise<{ due: number; erased: number; failed: number }> {
  const due = await createDeletionRepo(deps.db).due(deps.now(), 500);
  let erased = 0;
  let failed = 0;
  for (const request of due) {
    try {
      const result = await eraseUser(deps, request.userId, {
        audit: { actor: null, meta: null },
        trigger: 'request',
        requestId: request.id,
      });
      if (result) erased += 1;
    } catch (err) {
      // The database or Redis went away: this run stops and fails, so that the job runs again when it
      // returns (the erasures done so far are committed; the next run selects what is still due).
      if (unavailableDependency(err)) throw err;
      failed += 1;
      // PRIVACY: ids only, never the person's e-mail or data.
      deps.logger.error(
        { request_id: request.id, err: err instanceof Error ? err.message : String(err) },
        'scheduled erasure failed',
      );
    }
  }
  return { due: due.length, erased, failed };
}

/** Deletes completed requests past `retention_until` (job `deletion-requests.purge`). */
export async function purgeCompletedRequests({
  db,
  now,
}: {
  db: Db;
  now: () => Date;
}): Promise<{ purged: number }> {
  const purged = await db.transaction(async (tx) => {
    const n = await createDeletionRepo(tx).purgeExpired(now());
    if (n > 0) {
      await recordAudit(
        tx,
        { actor: null, meta: null },
        { action: 'delete', resourceType: RESOURCE, metadata: { purged: n, reason: 'retention_expired' } },
      );
    }
    return n;
  });
  return { purged };
}
