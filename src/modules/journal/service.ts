import type { Db } from '../../db/client.js';
import type { IdPool } from '../../db/ids.js';
import type { OnDataChange } from '../../lib/changes.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { notFound, validationError } from '../../lib/errors.js';
import { type Page, paginate, type PageLink } from '../../lib/paging.js';
import { addDays, utcToday } from '../../lib/time.js';
import {
  diffPlain,
  readEvents,
  type ReadItem,
  recordAudit,
  recordAudits,
  recordReads,
} from '../audit/index.js';
import { assertLiveSubject, type DataKeyStore, lockLiveSubject } from '../keys/index.js';
import { entryOwnerScope, mayFilterByUser } from './policy.js';
import { createJournalRepo, type EntryRow, type EntryScope } from './repo.js';
import type { EntryInput, EntryListQuery, EntryPatch, EntryResponse, StatsResponse } from './types.js';
import { entryResponse, mergeEntry, openEntry, SEALED_FIELD_NAMES, sealEntry } from './serialize.js';

export interface JournalServiceDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  fmt: (d: Date) => string;
  now: () => Date;
  /** Row ids reserved ahead (a create binds its ciphertext to its id without asking for it). */
  journalIds: IdPool;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

const RESOURCE = 'journal_entry';
const DUPLICATE_DATE = () => validationError({ date: ['You already have a journal entry for this date.'] });
/** Fields whose values may appear in the audit log (PRIVACY: never the encrypted ones). */
const PLAIN_FIELDS = ['date', 'mood', 'energy_level', 'barrier_count'] as const;
/** Every writable field, in contract order (the names a create writes). */
const WRITABLE = [
  'date',
  'mood',
  'energy_level',
  'activities',
  'challenges',
  'achievements',
  'notes',
  'barriers_faced',
  'barrier_count',
] as const;
/** PRIVACY: what an entry in a response discloses to the read audit (names, never values). */
const readItem = (row: Pick<EntryRow, 'id' | 'userId'>): ReadItem => ({
  subjectUserId: row.userId,
  resourceId: row.id,
  fields: SEALED_FIELD_NAMES,
});

/** The base of a write that gives every sealed field (nothing of the old record is kept). */
const BLANK = { activities: '', challenges: '', achievements: '', notes: '', barriers_faced: '' };

/** Recent barriers count entries dated on or after UTC today minus this many days. */
const RECENT_DAYS = 7;

type Plain = Record<(typeof PLAIN_FIELDS)[number], unknown>;
const plainOf = (row: EntryRow): Plain => ({
  date: row.date,
  mood: row.mood,
  energy_level: row.energyLevel,
  barrier_count: row.barrierCount,
});

/** `?user=` (staff only): a positive integer id, else a field error. */
function userFilter(raw: unknown): number | undefined {
  const value = Array.isArray(raw) ? (raw[0] as unknown) : raw;
  if (value === undefined || value === '') return undefined;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  throw validationError({ user: ['A valid integer is required.'] });
}

/** Journal rules (docs/contract.md#journal): owner scoping, (user, date) uniqueness, crypto and audit. */
export function createJournalService(deps: JournalServiceDeps) {
  const { db, cipher, dataKeys, fmt, now } = deps;
  const journalChanged = async <T extends { user: number }>(entry: T): Promise<T> => {
    await deps.changed([{ kind: 'journal', userId: entry.user }]);
    return entry;
  };

  /** Decrypts rows of any owners with one key query, whatever the number of rows. */
  async function present(rows: EntryRow[]): Promise<EntryResponse[]> {
    if (rows.length === 0) return [];
    const keys = await dataKeys.findMany(
      db,
      rows.map((r) => r.userId),
    );
    return rows.map((row) => {
      const dek = keys.get(row.userId);
      // An entry always has its owner's key (erasure removes both together).
      if (!dek) throw new Error(`no data key for the owner of journal entry ${String(row.id)}`);
      return entryResponse(row, openEntry(cipher, dek, row), fmt);
    });
  }

  /** Shared by PUT and PATCH: writes only the given fields, under the OWNER's key. */
  async function write(
    actor: Actor,
    meta: RequestMeta,
    id: number,
    input: EntryPatch,
  ): Promise<EntryResponse> {
    const entry = await db.transaction(async (tx) => {
      const repo = createJournalRepo(tx);
      // PRIVACY: the owner is locked before the entry, in the order erasure locks them.
      const peek = await repo.findVisible(id, entryOwnerScope(actor));
      if (!peek) throw notFound();
      await assertLiveSubject(tx, peek.userId);
      const before = await repo.findVisible(id, entryOwnerScope(actor), { forUpdate: true });
      if (!before) throw notFound();
      if (input.date !== undefined && input.date !== before.date) {
        if (await repo.dateTaken(before.userId, input.date, id)) throw DUPLICATE_DATE();
      }
      const fields = WRITABLE.filter((f) => input[f] !== undefined);
      const dek = await dataKeys.obtain(tx, before.userId);
      // One record per entry (docs/privacy.md#one-envelope-per-row): the locked row's record (or its
      // older per-field columns) is opened when a field is kept, merged and sealed again.
      const keeps = SEALED_FIELD_NAMES.some((f) => input[f] === undefined);
      const plain = mergeEntry(keeps ? openEntry(cipher, dek, before) : BLANK, input);
      const after = await repo.update(id, {
        ...(input.date !== undefined && { date: input.date }),
        ...(input.mood !== undefined && { mood: input.mood }),
        ...(input.energy_level !== undefined && { energyLevel: input.energy_level }),
        ...(input.barrier_count !== undefined && { barrierCount: input.barrier_count }),
        ...sealEntry(cipher, dek, before, plain),
        updatedAt: now(),
      });
      // The response shows the whole entry: staff editing someone else's also read it.
      await recordAudits(tx, { actor, meta }, [
        ...readEvents(actor, RESOURCE, [readItem(after)]),
        {
          action: 'update',
          resourceType: RESOURCE,
          resourceId: id,
          subjectUserId: before.userId,
          fields: [...fields],
          changes: diffPlain(plainOf(before), plainOf(after), PLAIN_FIELDS),
        },
      ]);
      return entryResponse(after, plain, fmt);
    });
    return journalChanged(entry);
  }

  return {
    async list(
      link: PageLink,
      actor: Actor,
      meta: RequestMeta,
      query: EntryListQuery,
    ): Promise<Page<EntryResponse>> {
      const scope: EntryScope = {
        ownerId: mayFilterByUser(actor) ? userFilter(query.user) : entryOwnerScope(actor),
        dateFrom: query.date_from,
        dateTo: query.date_to,
        mood: query.mood,
      };
      const repo = createJournalRepo(db);
      return paginate(
        link,
        query,
        (limit, offset) => repo.page(scope, limit, offset),
        () => repo.count(scope),
        async (rows) => {
          const out = await present(rows);
          // PRIVACY: one read per other person on the page, one statement for all of them.
          await recordReads(db, actor, meta, RESOURCE, rows.map(readItem), 'entry_ids');
          return out;
        },
      );
    },

    async get(actor: Actor, meta: RequestMeta, id: number): Promise<EntryResponse> {
      const row = await createJournalRepo(db).findVisible(id, entryOwnerScope(actor));
      if (!row) throw notFound();
      const [out] = await present([row]);
      if (!out) throw notFound();
      await recordReads(db, actor, meta, RESOURCE, [readItem(row)]);
      return out;
    },

    /** The caller becomes the owner; their data key encrypts the entry. */
    async create(actor: Actor, meta: RequestMeta, input: EntryInput): Promise<EntryResponse> {
      const ownerId = actor.userId;
      // Four statements when the owner's key is cached (docs/operations.md#statements-per-request):
      // begin, the insert (which locks the owner live and finds a taken date), the audit, commit.
      const id = await deps.journalIds.next();
      const entry = await db.transaction(async (tx) => {
        const repo = createJournalRepo(tx);
        const dek = dataKeys.peek(ownerId) ?? (await dataKeys.obtain(tx, ownerId));
        const plain = {
          activities: input.activities,
          challenges: input.challenges ?? '',
          achievements: input.achievements ?? '',
          notes: input.notes ?? '',
          barriers_faced: input.barriers_faced ?? '',
        };
        const at = now();
        const row = await repo.insertForLiveOwner({
          id,
          userId: ownerId,
          date: input.date,
          mood: input.mood,
          energyLevel: input.energy_level,
          barrierCount: input.barrier_count ?? 0,
          ...sealEntry(cipher, dek, { id, userId: ownerId }, plain),
          createdAt: at,
          updatedAt: at,
        });
        if (!row) {
          // Nothing inserted: the owner was erased meanwhile, or already has an entry that day.
          if (!(await lockLiveSubject(tx, ownerId))) throw notFound();
          throw DUPLICATE_DATE();
        }
        const none: Plain = { date: null, mood: null, energy_level: null, barrier_count: null };
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'create',
            resourceType: RESOURCE,
            resourceId: id,
            subjectUserId: ownerId,
            fields: [...WRITABLE],
            changes: diffPlain(none, plainOf(row), PLAIN_FIELDS),
          },
        );
        return entryResponse(row, plain, fmt);
      });
      return journalChanged(entry);
    },

    /** PUT: the route's schema requires date, mood, energy_level, activities; others kept if absent. */
    replace: (actor: Actor, meta: RequestMeta, id: number, input: EntryInput) =>
      write(actor, meta, id, input),

    update: write,

    async remove(actor: Actor, meta: RequestMeta, id: number): Promise<void> {
      const owner = await db.transaction(async (tx) => {
        const repo = createJournalRepo(tx);
        const row = await repo.findVisible(id, entryOwnerScope(actor), { forUpdate: true });
        if (!row) throw notFound();
        await repo.remove(id);
        await recordAudit(
          tx,
          { actor, meta },
          { action: 'delete', resourceType: RESOURCE, resourceId: id, subjectUserId: row.userId },
        );
        return row.userId;
      });
      await journalChanged({ user: owner });
    },

    /** Own entries for candidates, every entry for staff; one aggregate query. */
    async stats(actor: Actor): Promise<StatsResponse> {
      const since = addDays(utcToday(now()), -RECENT_DAYS);
      const s = await createJournalRepo(db).stats(entryOwnerScope(actor), since);
      return {
        total_entries: s.total,
        last_entry_date: s.lastDate,
        recent_barriers: s.recentBarriers,
        avg_energy_level: s.avgEnergy ?? 0,
      };
    },
  };
}
export type JournalService = ReturnType<typeof createJournalService>;
