import type { LightMyRequestResponse } from 'fastify';
import type { Role } from '../../src/lib/actor.js';
import { addDays } from '../../src/lib/time.js';
import { createUserWithSession, openSession, registerCandidate, type TestApp, type TestUser } from './app.js';

/**
 * The people and objects of the authorization matrix (test/authorization-matrix.test.ts).
 * Candidate A owns the objects; candidate B is "the other candidate"; admin2 and su2 are staff
 * accounts that other staff act on. Every staff member also owns a journal entry and a submission,
 * so "own" rows have something to act on.
 */
export type Scope = 'own' | 'other' | 'none';
export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Body = Record<string, unknown> | ((w: World) => Record<string, unknown>) | undefined;
/** [role, method, path template (under /api), own|other|none, body, expected status] */
export type Row = readonly [Role, Method, string, Scope, Body, number];

/** The date of every fixture journal entry, so a PUT may keep it without a uniqueness clash. */
export const FIXED_DATE = '2020-01-01';
/** An id no object has (the "missing" twin of a 404 row). */
export const MISSING_ID = 999_999_999;

export interface World {
  t: TestApp;
  A: TestUser;
  B: TestUser;
  admin: TestUser;
  admin2: TestUser;
  su: TestUser;
  su2: TestUser;
  /** user id → their fixture journal entry / intake submission; candidate id → a note about them. */
  entry: Map<number, number>;
  submission: Map<number, number>;
  note: Map<number, number>;
}

let dayOffset = 0;
/** A date no other entry of the run uses. */
export const nextDate = () => addDays('2001-01-01', (dayOffset += 1));

export async function send(
  t: TestApp,
  method: Method,
  url: string,
  token: string,
  payload?: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return t.request({ method, url, token, ...(payload === undefined ? {} : { payload }) });
}

async function created(res: LightMyRequestResponse, what: string, status = 201): Promise<number> {
  if (res.statusCode !== status) throw new Error(`fixture ${what}: ${res.statusCode} ${res.body}`);
  return res.json<{ id: number }>().id;
}

export async function createEntry(t: TestApp, owner: TestUser, date = nextDate()): Promise<number> {
  const { access } = await openSession(t, owner.id);
  const body = { date, mood: 'good', energy_level: 6, activities: 'matrix fixture' };
  return created(await send(t, 'POST', '/api/journal/', access, body), 'journal entry');
}

export async function createNote(w: World, about: TestUser): Promise<number> {
  const { access } = await openSession(w.t, w.admin2.id);
  const body = { candidate: about.id, category: 'general', title: 'Matrix', content: 'Fixture note' };
  return created(await send(w.t, 'POST', '/api/admin-notes/', access, body), 'admin note');
}

async function submitIntake(t: TestApp, user: TestUser): Promise<number> {
  const { access } = await openSession(t, user.id);
  const res = await send(t, 'POST', '/api/intake/submit/', access, {
    intake_data: { learning_style: 'visual' },
  });
  if (res.statusCode !== 200) throw new Error(`fixture submission: ${res.statusCode} ${res.body}`);
  return res.json<{ submission: { id: number } }>().submission.id;
}

export async function buildWorld(t: TestApp): Promise<World> {
  const w: World = {
    t,
    A: await registerCandidate(t),
    B: await registerCandidate(t),
    admin: await createUserWithSession(t, 'admin'),
    admin2: await createUserWithSession(t, 'admin'),
    su: await createUserWithSession(t, 'superuser'),
    su2: await createUserWithSession(t, 'superuser'),
    entry: new Map(),
    submission: new Map(),
    note: new Map(),
  };
  for (const u of [w.A, w.B, w.admin, w.su]) {
    w.entry.set(u.id, await createEntry(t, u, FIXED_DATE));
    w.submission.set(u.id, await submitIntake(t, u));
  }
  for (const u of [w.A, w.B]) w.note.set(u.id, await createNote(w, u));
  return w;
}

/** The caller of a row: candidates act as A on their own objects and as B on A's; staff as themselves. */
export function callerOf(w: World, role: Role, scope: Scope): TestUser {
  if (role === 'candidate') return scope === 'other' ? w.B : w.A;
  return role === 'admin' ? w.admin : w.su;
}

const need = (id: number | undefined, what: string): number => {
  if (id === undefined) throw new Error(`no fixture ${what}`);
  return id;
};

/**
 * Path placeholders. The object's owner is the caller for "own" rows and candidate A otherwise.
 * `fresh-*` create a throwaway object for this row alone (rows that delete or deactivate).
 */
const PLACEHOLDERS: Record<string, (w: World, owner: TestUser) => number | Promise<number>> = {
  user: (_w, o) => o.id,
  entry: (w, o) => need(w.entry.get(o.id), `entry of ${o.id}`),
  submission: (w, o) => need(w.submission.get(o.id), `submission of ${o.id}`),
  note: (w, o) => need(w.note.get(o.id), `note about ${o.id}`),
  admin2: (w) => w.admin2.id,
  su2: (w) => w.su2.id,
  missing: () => MISSING_ID,
  'fresh-entry': (w, o) => createEntry(w.t, o),
  'fresh-note': (w, o) => createNote(w, o),
  'fresh-cand': async (w) => (await createUserWithSession(w.t, 'candidate')).id,
  'fresh-admin': async (w) => (await createUserWithSession(w.t, 'admin')).id,
  'fresh-su': async (w) => (await createUserWithSession(w.t, 'superuser')).id,
};

/** The concrete URL of a row; with `missing`, every object id becomes one that does not exist. */
export async function resolvePath(
  w: World,
  template: string,
  caller: TestUser,
  scope: Scope,
  missing = false,
): Promise<string> {
  const owner = scope === 'own' ? caller : w.A;
  let url = `/api${template}`;
  for (const m of template.matchAll(/\{([a-z0-9-]+)\}/g)) {
    const make = PLACEHOLDERS[m[1] ?? ''];
    if (!make) throw new Error(`unknown placeholder ${m[0]}`);
    url = url.replace(m[0], String(missing ? MISSING_ID : await make(w, owner)));
  }
  return url;
}

export const hasObject = (template: string) => /\{[a-z0-9-]+\}/.test(template);
