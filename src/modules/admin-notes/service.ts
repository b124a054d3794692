import type { z } from 'zod';
import type { Db, DbOrTx, Tx } from '../../db/client.js';
import { assertLiveSubject, type DataKeyStore } from '../keys/index.js';
import { reserveId } from '../../db/ids.js';
import type { OnDataChange } from '../../lib/changes.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { openNoteRow, sealNoteColumns } from '../../db/sealed-records.js';
import type { Log } from '../../lib/log.js';
import { type FieldErrors, notFound, validationError } from '../../lib/errors.js';
import { type Page, paginate, type PageLink } from '../../lib/paging.js';
import {
  diffPlain,
  readEvents,
  type ReadItem,
  recordAudit,
  recordAudits,
  recordReads,
} from '../audit/index.js';
import {
  assertMayCreateNote,
  assertMayModifyVisibleNote,
  canSeeAllNotes,
  noteSubjectScope,
} from './policy.js';
import { createNoteRepo, type NoteRow, type NoteScope } from './repo.js';
import {
  candidatePk,
  NOTE_FIELD_ORDER,
  NoteBody,
  NoteFilters,
  NotePatchBody,
  notCandidateMessage,
  pkMissingMessage,
} from './input.js';
import type { NoteResponse } from './types.js';

/** Non-sensitive fields whose old and new values the audit log may hold (never title/content). */
const AUDITED_VALUES = ['category', 'is_important', 'tags', 'candidate'] as const;
type AuditedValues = Record<(typeof AUDITED_VALUES)[number], unknown>;
const auditedValues = (row: NoteRow | null): AuditedValues => ({
  category: row?.category ?? null,
  is_important: row?.isImportant ?? null,
  tags: row?.tags ?? null,
  candidate: row?.candidateId ?? null,
});

const RESOURCE = 'admin_note';
/** What an unreadable note shows instead of its title and content (see `open`). */
export const UNREADABLE = '[unreadable]';
const errorName = (err: unknown) => (err instanceof Error ? err.name : 'unknown');

/**
 * PRIVACY: a note is data about its candidate, whoever wrote it, so staff reading one is a read of
 * the candidate's data (docs/privacy.md#audit-log). Names only, never values.
 */
const readItem = (row: Pick<NoteRow, 'id' | 'candidateId'>): ReadItem => ({
  subjectUserId: row.candidateId,
  resourceId: row.id,
  fields: ['title', 'content'],
});

function fieldErrors(error: z.ZodError | undefined): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error?.issues ?? []) {
    const head = issue.path[0];
    const field = typeof head === 'string' ? head : 'non_field_errors';
    const list = (errors[field] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  return errors;
}

/** Errors keyed in the serializer's field order (as DRF reports them). */
function ordered(errors: FieldErrors): FieldErrors {
  const out: FieldErrors = {};
  for (const key of ['non_field_errors', ...NOTE_FIELD_ORDER, ...Object.keys(errors)]) {
    const list = errors[key];
    if (list && !(key in out)) out[key] = list;
  }
  return out;
}

const firstValue = (v: unknown): unknown => (Array.isArray(v) ? (v as unknown[])[0] : v);

export interface NoteServiceDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  fmt: (d: Date) => string;
  now: () => Date;
  logger: Log;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

export function createNoteService(c: NoteServiceDeps) {
  const { db, cipher, dataKeys, fmt } = c;
  /** A note counts on its candidate's dashboard (and, moved, on the one it left). */
  const noteChanged = (...candidates: number[]) =>
    c.changed([...new Set(candidates)].map((userId) => ({ kind: 'notes' as const, userId })));

  const shape = (row: NoteRow, title: string, content: string): NoteResponse => ({
    id: row.id,
    category: row.category,
    title,
    content,
    is_important: row.isImportant,
    tags: row.tags,
    created_at: fmt(row.createdAt),
    updated_at: fmt(row.updatedAt),
    candidate: row.candidateId,
    admin: row.adminId,
  });

  function present(row: NoteRow, dek: Buffer | undefined): NoteResponse {
    // A note's candidate always has a data key (their notes are removed with it on erasure).
    if (!dek) throw new Error(`no data key for the candidate of admin note ${String(row.id)}`);
    // PRIVACY: one record bound to the note and its candidate (docs/privacy.md#one-envelope-per-row).
    const plain = openNoteRow(cipher, dek, row);
    return shape(row, plain.title, plain.content);
  }

  /**
   * PRIVACY: in a list, a note that cannot be opened (its candidate's key is gone, or its
   * ciphertext does not match it) never fails the whole page: it is shown with UNREADABLE as its
   * title and content and its other fields intact (the page keeps its count, and staff can still
   * delete it), and logged by id only, never with any content. A single note still answers 500.
   */
  function presentInList(row: NoteRow, dek: Buffer | undefined): NoteResponse {
    try {
      return present(row, dek);
    } catch (err) {
      c.logger.warn(
        {
          admin_note_id: row.id,
          candidate_id: row.candidateId,
          reason: dek ? errorName(err) : 'no data key',
        },
        'admin note unreadable; listed with placeholders',
      );
      return shape(row, UNREADABLE, UNREADABLE);
    }
  }

  /** One key query for all the candidates on a page, whatever its size. */
  async function presentMany(conn: DbOrTx, rows: NoteRow[]): Promise<NoteResponse[]> {
    if (rows.length === 0) return [];
    const keys = await dataKeys.findMany(
      conn,
      rows.map((r) => r.candidateId),
    );
    return rows.map((r) => presentInList(r, keys.get(r.candidateId)));
  }

  /**
   * Validates a body with the schema and checks `candidate` against the database, reporting every
   * field's errors together (as DRF does).
   */
  async function validate<S extends typeof NoteBody | typeof NotePatchBody>(
    tx: DbOrTx,
    schema: S,
    body: unknown,
  ): Promise<z.output<S>> {
    const parsed = schema.safeParse(body);
    const errors = fieldErrors(parsed.error);
    const rawCandidate =
      body !== null && typeof body === 'object' && !Array.isArray(body)
        ? (body as Record<string, unknown>).candidate
        : undefined;
    const candidate = rawCandidate === undefined ? undefined : candidatePk().safeParse(rawCandidate);
    if (candidate?.success) {
      const role = await createNoteRepo(tx).userRole(candidate.data);
      if (role === undefined) errors.candidate = [pkMissingMessage(String(candidate.data))];
      else if (role !== 'candidate') errors.candidate = [notCandidateMessage(candidate.data)];
    }
    if (!parsed.success || Object.keys(errors).length > 0) throw validationError(ordered(errors));
    return parsed.data as z.output<S>;
  }

  /** Staff get the note (locked for the write); a candidate 403 if it is about them, else 404. */
  async function noteToModify(tx: Tx, actor: Actor, id: number): Promise<NoteRow> {
    const repo = createNoteRepo(tx);
    if (!canSeeAllNotes(actor)) {
      if (await repo.findVisible(id, actor.userId)) assertMayModifyVisibleNote(actor);
      throw notFound();
    }
    // PRIVACY: the note's candidate is locked before the note, in the order erasure locks them
    // (user row, then their notes); an erased candidate's notes are gone: 404.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const peek = await repo.findVisible(id, undefined);
      if (!peek) throw notFound();
      await assertLiveSubject(tx, peek.candidateId);
      const row = await repo.findVisible(id, undefined, { forUpdate: true });
      if (!row) throw notFound();
      // Moved to another candidate in between (rare): lock that one first too.
      if (row.candidateId === peek.candidateId) return row;
    }
    throw notFound();
  }

  function listFilters(query: unknown): Omit<NoteScope, 'subjectId' | 'pathCandidateId'> {
    const q = (query ?? {}) as Record<string, unknown>;
    const raw: Record<string, unknown> = {};
    for (const key of ['candidate', 'category', 'is_important', 'tag']) {
      const v = firstValue(q[key]);
      // As django-filter: an empty parameter does not filter.
      if (v !== undefined && v !== '') raw[key] = v;
    }
    const parsed = NoteFilters.safeParse(raw);
    if (!parsed.success) throw validationError(fieldErrors(parsed.error));
    const f = parsed.data;
    return { candidateId: f.candidate, category: f.category, isImportant: f.is_important, tag: f.tag };
  }

  return {
    /** `GET admin-notes/` and `admin-notes/candidate/<id>/`: staff all, a candidate notes about self. */
    async list(
      link: PageLink,
      query: Record<string, unknown>,
      actor: Actor,
      meta: RequestMeta,
      forCandidate?: number,
    ): Promise<Page<NoteResponse>> {
      const filters = listFilters(query);
      const subjectId = noteSubjectScope(actor);
      const repo = createNoteRepo(db);
      // The path's candidate and a `?candidate=` filter must both hold.
      const scope: NoteScope = { ...filters, subjectId, pathCandidateId: forCandidate };
      return paginate(
        link,
        query,
        (limit, offset) => repo.page(scope, limit, offset),
        () => repo.count(scope),
        async (rows) => {
          const out = await presentMany(db, rows);
          // PRIVACY: one read per candidate on the page, one statement for all of them.
          await recordReads(db, actor, meta, RESOURCE, rows.map(readItem), 'note_ids');
          return out;
        },
      );
    },

    async get(actor: Actor, meta: RequestMeta, id: number): Promise<NoteResponse> {
      const row = await createNoteRepo(db).findVisible(id, noteSubjectScope(actor));
      if (!row) throw notFound();
      const out = present(row, (await dataKeys.find(db, row.candidateId)) ?? undefined);
      await recordReads(db, actor, meta, RESOURCE, [readItem(row)]);
      return out;
    },

    async create(actor: Actor, meta: RequestMeta, body: unknown): Promise<NoteResponse> {
      assertMayCreateNote(actor);
      const note = await db.transaction(async (tx) => {
        const input = await validate(tx, NoteBody, body);
        const dek = await dataKeys.obtain(tx, input.candidate);
        const id = await reserveId(tx, 'admin_notes');
        const now = c.now();
        const plain = { title: input.title, content: input.content };
        const row = await createNoteRepo(tx).insert({
          id,
          candidateId: input.candidate,
          adminId: actor.userId,
          category: input.category,
          ...sealNoteColumns(cipher, dek, { id, candidateId: input.candidate }, plain),
          isImportant: input.is_important ?? false,
          tags: input.tags ?? [],
          createdAt: now,
          updatedAt: now,
        });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'create',
            resourceType: RESOURCE,
            resourceId: row.id,
            subjectUserId: row.candidateId,
            fields: [...NOTE_FIELD_ORDER],
            changes: diffPlain(auditedValues(null), auditedValues(row), AUDITED_VALUES),
          },
        );
        return shape(row, plain.title, plain.content);
      });
      await noteChanged(note.candidate);
      return note;
    },

    /** PUT (`partial` false: candidate, category, title, content required) and PATCH. */
    async update(
      actor: Actor,
      meta: RequestMeta,
      id: number,
      body: unknown,
      partial: boolean,
    ): Promise<NoteResponse> {
      let previousCandidate: number | undefined;
      const note = await db.transaction(async (tx) => {
        const before = await noteToModify(tx, actor, id);
        previousCandidate = before.candidateId;
        const input = await validate(tx, partial ? NotePatchBody : NoteBody, body);
        const written = NOTE_FIELD_ORDER.filter((f) => input[f] !== undefined);

        const oldDek = await dataKeys.find(tx, before.candidateId);
        if (!oldDek) throw new Error(`no data key for the candidate of admin note ${String(id)}`);
        const candidateId = input.candidate ?? before.candidateId;
        const moved = candidateId !== before.candidateId;
        const dek = moved ? await dataKeys.obtain(tx, candidateId) : oldDek;
        // One record per note, bound to its candidate: the locked row's record is opened when a field
        // is kept, merged, and sealed again under the (new) candidate's key as that candidate's.
        const current =
          input.title !== undefined && input.content !== undefined
            ? { title: input.title, content: input.content }
            : openNoteRow(cipher, oldDek, before);
        const plain = { title: input.title ?? current.title, content: input.content ?? current.content };

        const after = await createNoteRepo(tx).update(id, {
          ...(moved ? { candidateId } : {}),
          ...(input.category !== undefined ? { category: input.category } : {}),
          ...sealNoteColumns(cipher, dek, { id, candidateId }, plain),
          ...(input.is_important !== undefined ? { isImportant: input.is_important } : {}),
          ...(input.tags !== undefined ? { tags: input.tags } : {}),
          updatedAt: c.now(),
        });
        // The response shows the whole note: its title and content are read too.
        await recordAudits(tx, { actor, meta }, [
          ...readEvents(actor, RESOURCE, [readItem(after)]),
          {
            action: 'update',
            resourceType: RESOURCE,
            resourceId: id,
            subjectUserId: after.candidateId,
            fields: written,
            changes: diffPlain(auditedValues(before), auditedValues(after), AUDITED_VALUES),
          },
        ]);
        return shape(after, plain.title, plain.content);
      });
      await noteChanged(note.candidate, previousCandidate ?? note.candidate);
      return note;
    },

    async remove(actor: Actor, meta: RequestMeta, id: number): Promise<void> {
      const candidate = await db.transaction(async (tx) => {
        const before = await noteToModify(tx, actor, id);
        await createNoteRepo(tx).remove(id);
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'delete',
            resourceType: RESOURCE,
            resourceId: id,
            subjectUserId: before.candidateId,
            changes: diffPlain(auditedValues(before), auditedValues(null), AUDITED_VALUES),
          },
        );
        return before.candidateId;
      });
      await noteChanged(candidate);
    },
  };
}
export type NoteService = ReturnType<typeof createNoteService>;
