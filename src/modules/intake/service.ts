import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { reserveId } from '../../db/ids.js';
import type { OnDataChange } from '../../lib/changes.js';
import { isStaff, type Actor, type RequestMeta } from '../../lib/actor.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { openSubmissionRow, sealSubmissionColumns, type SubmissionPlain } from '../../db/sealed-records.js';
import { ApiError, forbidden, notFound, validationError, type FieldErrors } from '../../lib/errors.js';
import { paginate, type PageLink } from '../../lib/paging.js';
import {
  type AuditContext,
  diffPlain,
  readEvents,
  type ReadItem,
  recordAudit,
  recordAudits,
  recordReads,
} from '../audit/index.js';
import { assertLiveSubject, type DataKeyStore } from '../keys/index.js';
import { MEDICAL_FIELDS, profileReadItem, profileResponse, writeProfile } from '../users/index.js';
import { hasMedicalDataConsent } from './consent.js';
import { intakeObject, intakeValues, withIntakeDetail } from './intake-data.js';
import { canReadIntakeOf } from './policy.js';
import { createIntakeRepo, type SubmissionFilter, type SubmissionRow } from './repo.js';
import { INTAKE_STATUSES, type IntakeStatus, type ReviewInput, type SubmissionItem } from './types.js';

type Caller = Pick<Actor, 'userId' | 'role'>;

const SUBMISSION_TABLE = 'intake_submissions';
/** PRIVACY: the names of the encrypted columns a submission read discloses (never their values). */
const SUBMISSION_SENSITIVE = ['responses', 'review_notes'];
const SUBMISSION = 'intake_submission';
const readItem = (row: Pick<SubmissionRow, 'id' | 'userId'>): ReadItem => ({
  subjectUserId: row.userId,
  resourceId: row.id,
  fields: SUBMISSION_SENSITIVE,
});

/** Intake (docs/contract.md#intake) and its stored submissions (docs/contract.md "Intake submissions"). */
export interface IntakeServiceDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  fmt: (d: Date) => string;
  now: () => Date;
  config: Pick<Config, 'intakeRequireMedicalConsent'>;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

export function createIntakeService(c: IntakeServiceDeps) {
  /** PRIVACY: the answers and review notes are one record bound to the submission and its owner. */
  const open = (row: SubmissionRow, dek: Buffer): SubmissionPlain => openSubmissionRow(c.cipher, dek, row);

  const summary = (row: SubmissionRow) => ({
    id: row.id,
    status: row.status,
    submitted_at: c.fmt(row.submittedAt),
    reviewed_by: row.reviewedBy,
    reviewed_at: row.reviewedAt ? c.fmt(row.reviewedAt) : null,
  });

  /** The item of the list and detail; without the owner's key (erased) the answers read as empty. */
  const item = (row: SubmissionRow, dek: Buffer | null | undefined, known?: SubmissionPlain) => {
    const plain = known ?? (dek ? open(row, dek) : { responses: {}, review_notes: null });
    const out: SubmissionItem = {
      id: row.id,
      user: row.userId,
      status: row.status,
      submitted_at: c.fmt(row.submittedAt),
      reviewed_by: row.reviewedBy,
      reviewed_at: row.reviewedAt ? c.fmt(row.reviewedAt) : null,
      review_notes: plain.review_notes,
      responses: plain.responses as Record<string, string | null>,
    };
    return out;
  };

  /** `?user=` and `?status=` of the list; an empty value means no filter (as django-filter). */
  function listFilters(query: Record<string, unknown>): Pick<SubmissionFilter, 'user' | 'status'> {
    const last = (v: unknown) => (Array.isArray(v) ? (v.at(-1) as unknown) : v);
    const user = last(query.user);
    const status = last(query.status);
    const errors: FieldErrors = {};
    const out: Pick<SubmissionFilter, 'user' | 'status'> = {};
    if (user !== undefined && user !== '') {
      if (typeof user === 'string' && /^\d{1,15}$/.test(user)) out.user = Number(user);
      else errors.user = ['A valid integer is required.'];
    }
    if (status !== undefined && status !== '') {
      if (typeof status === 'string' && (INTAKE_STATUSES as readonly string[]).includes(status))
        out.status = status as IntakeStatus;
      else errors.status = [`"${typeof status === 'string' ? status : 'list'}" is not a valid choice.`];
    }
    if (Object.keys(errors).length) throw validationError(errors);
    return out;
  }

  return {
    /** `POST intake/` and `POST intake/submit/`: writes the caller's profile and stores a submission. */
    async complete(actor: Caller, meta: RequestMeta, body: { intake_data?: unknown } | undefined) {
      const data = intakeObject(body?.intake_data);
      if (
        c.config.intakeRequireMedicalConsent &&
        MEDICAL_FIELDS.some((f) => data[f] !== undefined && data[f] !== null) &&
        !(await hasMedicalDataConsent(c.db, actor.userId))
      ) {
        throw forbidden('Medical data consent required');
      }
      const values = intakeValues(data);
      const ctx: AuditContext = { actor, meta };
      const userId = actor.userId;
      try {
        const answer = await c.db.transaction(async (tx) => {
          const repo = createIntakeRepo(tx);
          const at = c.now();
          const { row, fields } = await writeProfile(tx, c, userId, values);
          const wasCompleted = await repo.markIntakeCompleted(userId, at);
          const dek = await c.dataKeys.obtain(tx, userId);
          const id = await reserveId(tx, SUBMISSION_TABLE);
          // PRIVACY: the answers as applied (escaped, normalised), sealed under the owner's key.
          const submission = await repo.insertSubmission({
            id,
            userId,
            ...sealSubmissionColumns(
              c.cipher,
              dek,
              { id, userId },
              { responses: values, review_notes: null },
            ),
            status: 'submitted',
            submittedAt: at,
          });
          await recordAudit(tx, ctx, {
            action: 'update',
            resourceType: 'profile',
            resourceId: row.id,
            subjectUserId: userId,
            fields,
          });
          if (!wasCompleted) {
            await recordAudit(tx, ctx, {
              action: 'update',
              resourceType: 'user',
              resourceId: userId,
              subjectUserId: userId,
              fields: ['has_completed_intake'],
              changes: { has_completed_intake: [false, true] },
            });
          }
          await recordAudit(tx, ctx, {
            action: 'create',
            resourceType: 'intake_submission',
            resourceId: id,
            subjectUserId: userId,
            fields: ['responses', 'status'],
            changes: { status: [null, 'submitted'] },
          });
          return {
            detail: 'Intake completed successfully',
            profile: profileResponse(c.cipher, dek, row, c.fmt),
            submission: summary(submission),
          };
        });
        await c.changed([{ kind: 'intake', userId }]);
        return answer;
      } catch (err) {
        // The ID-number uniqueness check of the profile writer is a field error of this form too.
        if (err instanceof ApiError && err.code === 'validation_error' && err.errors)
          throw withIntakeDetail(err.errors);
        throw err;
      }
    },

    /** `GET intake/<user_id>/`: the owner's profile, to the owner or staff. */
    async profile(actor: Caller, meta: RequestMeta, userId: number) {
      if (!canReadIntakeOf(actor, userId)) throw notFound();
      const row = await createIntakeRepo(c.db).findProfile(userId);
      if (!row) throw notFound();
      const dek = await c.dataKeys.find(c.db, userId);
      await recordReads(c.db, actor, meta, 'profile', [profileReadItem(row.id, userId)]);
      return profileResponse(c.cipher, dek ?? undefined, row, c.fmt);
    },

    /** `GET intake/submissions/`: own for candidates (in SQL), all for staff; newest first. */
    async list(link: PageLink, actor: Caller, meta: RequestMeta, query: Record<string, unknown>) {
      const filter: SubmissionFilter = {
        ...listFilters(query),
        ...(isStaff(actor.role) ? {} : { ownerId: actor.userId }),
      };
      const repo = createIntakeRepo(c.db);
      return paginate(
        link,
        query,
        (limit, offset) => repo.listSubmissions(filter, limit, offset),
        () => repo.countSubmissions(filter),
        async (rows) => {
          const keys = await c.dataKeys.findMany(c.db, [...new Set(rows.map((r) => r.userId))]);
          // PRIVACY: one 'read' entry per other person on the page (one insert for all of them).
          await recordReads(c.db, actor, meta, SUBMISSION, rows.map(readItem), 'submission_ids');
          return rows.map((r) => item(r, keys.get(r.userId)));
        },
      );
    },

    /** `GET intake/submissions/<id>/`: own or staff; others 404. */
    async detail(actor: Caller, meta: RequestMeta, id: number) {
      const row = await createIntakeRepo(c.db).findSubmission(
        id,
        isStaff(actor.role) ? undefined : actor.userId,
      );
      if (!row) throw notFound();
      const dek = await c.dataKeys.find(c.db, row.userId);
      await recordReads(c.db, actor, meta, SUBMISSION, [readItem(row)]);
      return item(row, dek);
    },

    /** `PATCH intake/submissions/<id>/` (staff): status and review notes; records the reviewer. */
    async review(actor: Caller, meta: RequestMeta, id: number, input: ReviewInput) {
      return c.db.transaction(async (tx) => {
        const repo = createIntakeRepo(tx);
        // PRIVACY: the candidate is locked before the submission, in the order erasure locks them.
        const peek = await repo.findSubmission(id, undefined);
        if (!peek) throw notFound();
        await assertLiveSubject(tx, peek.userId);
        const before = await repo.findSubmission(id, undefined, true);
        if (!before) throw notFound();
        // PRIVACY: review notes are sealed with the candidate's key, like their answers.
        const dek = await c.dataKeys.obtain(tx, before.userId);
        const fields: string[] = [];
        // The locked row's record (or its older per-field columns) is opened, merged, sealed again.
        const record = open(before, dek);
        if (input.review_notes !== undefined) record.review_notes = input.review_notes;
        const set: Parameters<typeof repo.updateSubmission>[1] = {
          reviewedBy: actor.userId,
          reviewedAt: c.now(),
          ...sealSubmissionColumns(c.cipher, dek, before, record),
        };
        if (input.status !== undefined) {
          set.status = input.status;
          fields.push('status');
        }
        if (input.review_notes !== undefined) fields.push('review_notes');
        const after = await repo.updateSubmission(id, set);
        const plain = (r: SubmissionRow) => ({
          status: r.status,
          reviewed_by: r.reviewedBy,
          reviewed_at: r.reviewedAt ? c.fmt(r.reviewedAt) : null,
        });
        // The response shows the answers: the reviewer reads them too.
        await recordAudits(tx, { actor, meta }, [
          ...readEvents(actor, SUBMISSION, [readItem(after)]),
          {
            action: 'update',
            resourceType: SUBMISSION,
            resourceId: id,
            subjectUserId: before.userId,
            fields: [...fields, 'reviewed_by', 'reviewed_at'],
            changes: diffPlain(plain(before), plain(after), ['status', 'reviewed_by', 'reviewed_at']),
          },
        ]);
        return item(after, dek, record);
      });
    },
  };
}
export type IntakeService = ReturnType<typeof createIntakeService>;
