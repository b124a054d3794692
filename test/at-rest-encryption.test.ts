import { sql } from 'drizzle-orm';
import { rawDump as dumpAll } from './helpers/dump.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILE_FIELDS } from '../src/db/schema.js';
import { currentTotp } from '../src/modules/auth/two-factor/totp.js';
import {
  createTestApp,
  createUserWithSession,
  registerCandidate,
  type TestApp,
  type TestUser,
} from './helpers/app.js';

/**
 * PRIVACY (spec privacy.md §7, data-model.md "E" fields): every sensitive value written through the
 * API is stored as ciphertext only. The database is seeded with recognisable markers, then every
 * row of every table is dumped and searched for them, while the API still returns them decrypted.
 */

let t: TestApp;
let alice: TestUser; // candidate whose data is seeded
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  alice = await registerCandidate(t);
  admin = await createUserWithSession(t, 'admin');
});
afterAll(async () => {
  await t.close();
});

type Json = Record<string, unknown>;
const send = (method: 'GET' | 'POST' | 'PATCH', url: string, token?: string, payload?: Json) =>
  t.request({ method, url, ...(token ? { token } : {}), ...(payload ? { payload } : {}) });
async function ok<T = Json>(res: Awaited<ReturnType<typeof send>>, status = 200): Promise<T> {
  if (res.statusCode !== status) throw new Error(`${res.statusCode} ${res.body}`);
  return res.json<T>();
}

const marker = (what: string) => `PIIMARK-${what}-7Qx`;

// A valid SA ID number (date 1993-07-14, Luhn check digit) and three valid ZA phone numbers.
const ID_NUMBER = '9307145826087';
const PHONES = {
  contact_number: { input: '071 648 2093', stored: '+27716482093' },
  emergency_phone: { input: '083-917-4625', stored: '+27839174625' },
  doctor_phone: { input: '+27 62 735 1948', stored: '+27627351948' },
} as const;

/** The 16 profile fields as sent (intake_data) and as the API must return them. */
const PROFILE_IN: Record<string, string> = {};
const PROFILE_OUT: Record<string, string> = {};
for (const f of PROFILE_FIELDS) {
  const phone = PHONES[f as keyof typeof PHONES] as (typeof PHONES)[keyof typeof PHONES] | undefined;
  PROFILE_IN[f] = f === 'id_number' ? '930714 5826 087' : phone ? phone.input : marker(f);
  PROFILE_OUT[f] = f === 'id_number' ? ID_NUMBER : phone ? phone.stored : marker(f);
}
const JOURNAL_FIELDS = ['activities', 'challenges', 'achievements', 'notes', 'barriers_faced'] as const;
const entryBody = (n: number, date: string) => ({
  date,
  mood: 'okay',
  energy_level: 5,
  ...Object.fromEntries(JOURNAL_FIELDS.map((f) => [f, marker(`${f}${n}`)])),
});

/** Every spelling of a phone number a leak could take: as typed, compact, +27, 0…, the 9 digits. */
function phoneVariants(input: string, stored: string): string[] {
  const national = `0${stored.slice(3)}`;
  const nine = stored.slice(3);
  const spaced = `${national.slice(0, 3)} ${national.slice(3, 6)} ${national.slice(6)}`;
  return [input, input.replace(/[ -]/g, ''), stored, national, nine, spaced, spaced.replace(/ /g, '-')];
}

const rawDump = () => dumpAll(t.c.db);

interface Seeded {
  submissionId: number;
  entryIds: number[];
  noteId: number;
  totpSecret: string;
  backupCodes: string[];
}
let seeded: Seeded;

describe('encryption at rest', () => {
  it('seeds sensitive data through the API; the API returns it decrypted', async () => {
    const submit = await ok<{ profile: Json; submission: { id: number } }>(
      await send('POST', '/api/intake/submit/', alice.access, { intake_data: PROFILE_IN }),
    );
    expect(submit.profile).toMatchObject(PROFILE_OUT);
    const entryIds: number[] = [];
    for (const [n, date] of [
      [1, '2024-03-01'],
      [2, '2024-03-02'],
    ] as const) {
      entryIds.push(
        (await ok<{ id: number }>(await send('POST', '/api/journal/', alice.access, entryBody(n, date)), 201))
          .id,
      );
    }
    const note = await ok<{ id: number }>(
      await send('POST', '/api/admin-notes/', admin.access, {
        candidate: alice.id,
        category: 'medical',
        title: marker('note_title'),
        content: marker('note_content'),
      }),
      201,
    );
    await ok(
      await send('PATCH', `/api/intake/submissions/${submit.submission.id}/`, admin.access, {
        status: 'needs_follow_up',
        review_notes: marker('review_notes'),
      }),
    );
    const setup = await ok<{ secret: string }>(await send('POST', '/api/auth/2fa/setup/', alice.access));
    const verified = await ok<{ backup_codes: string[] }>(
      await send('POST', '/api/auth/2fa/verify-setup/', alice.access, {
        totp_code: currentTotp(setup.secret, t.c.now()),
      }),
    );
    seeded = {
      submissionId: submit.submission.id,
      entryIds,
      noteId: note.id,
      totpSecret: setup.secret,
      backupCodes: verified.backup_codes,
    };

    // Read back through the API: every value decrypted, exactly as written.
    expect(await ok(await send('GET', `/api/users/${alice.id}/profile/`, alice.access))).toMatchObject(
      PROFILE_OUT,
    );
    expect(await ok(await send('GET', `/api/intake/${alice.id}/`, admin.access))).toMatchObject(PROFILE_OUT);
    const sub = await ok<{ responses: Json; review_notes: string }>(
      await send('GET', `/api/intake/submissions/${seeded.submissionId}/`, admin.access),
    );
    expect(sub.responses).toMatchObject(PROFILE_OUT);
    expect(sub.review_notes).toBe(marker('review_notes'));
    for (const [i, id] of entryIds.entries()) {
      const entry = await ok(await send('GET', `/api/journal/${id}/`, alice.access));
      expect(entry).toMatchObject(entryBody(i + 1, entry.date as string));
    }
    expect(await ok(await send('GET', `/api/admin-notes/${note.id}/`, alice.access))).toMatchObject({
      title: marker('note_title'),
      content: marker('note_content'),
    });
    // The TOTP secret is never shown again; it still works, so it is decrypted at login.
    t.clock.advance(30);
    const login = await ok(
      await send('POST', '/api/auth/login/', undefined, { email: alice.email, password: alice.password }),
    );
    expect(login.requires_2fa).toBe(true);
    const code = currentTotp(seeded.totpSecret, t.c.now());
    const done = await send('POST', '/api/auth/2fa/verify-code/', undefined, { email: alice.email, code });
    expect(done.statusCode, done.body).toBe(200);
  });

  it('a raw dump of every table holds none of the markers, ID number, phone numbers or 2FA secrets', async () => {
    const dump = await rawDump();
    const needles = new Set([
      ...Object.values(PROFILE_OUT).filter((v) => v.startsWith('PIIMARK')),
      ...JOURNAL_FIELDS.flatMap((f) => [marker(`${f}1`), marker(`${f}2`)]),
      marker('note_title'),
      marker('note_content'),
      marker('review_notes'),
      'PIIMARK',
      ID_NUMBER,
      '930714 5826 087',
      ...Object.values(PHONES).flatMap((p) => phoneVariants(p.input, p.stored)),
      seeded.totpSecret,
      ...seeded.backupCodes,
    ]);
    const leaks = [...dump].flatMap(([table, text]) =>
      [...needles].filter((n) => text.includes(n)).map((n) => `${table}: ${n}`),
    );
    expect(leaks).toEqual([]);

    // The dump is real: it holds the tables and plain columns we wrote, and the ciphertexts.
    expect([...dump.keys()]).toEqual(
      expect.arrayContaining([
        'users',
        'user_profiles',
        'journal_entries',
        'admin_notes',
        'intake_submissions',
      ]),
    );
    expect(dump.get('users')).toContain(alice.email);
    // One sealed record per row (v2) where a row has several sensitive fields; one value (v1) elsewhere.
    for (const table of ['user_profiles', 'journal_entries', 'admin_notes', 'intake_submissions']) {
      expect(dump.get(table), table).toMatch(/"sealed":"v2\.[A-Za-z0-9_-]{20,}"/);
    }
    expect(dump.get('users')).toMatch(/"totp_secret":"v1\.[A-Za-z0-9_-]{20,}"/);
  });

  it('a record copied to another row or owner is refused, never shown as the wrong text', async () => {
    const [first, second] = seeded.entryIds as [number, number];
    // Same owner, same key: only the AAD (table, row id, owner) tells the rows apart.
    await t.c.db.execute(
      sql`update journal_entries set sealed = (select sealed from journal_entries where id = ${first}) where id = ${second}`,
    );
    const read = await send('GET', `/api/journal/${second}/`, alice.access);
    const list = await send('GET', '/api/journal/', alice.access);
    const staff = await send('GET', `/api/journal/${second}/`, admin.access);
    for (const res of [read, list, staff]) {
      // What the code does: the authentication tag fails, the request ends in the generic 500.
      expect(res.statusCode, res.body).toBe(500);
      expect(res.json()).toEqual({
        detail: 'An unexpected error occurred. Please try again later.',
        code: 'server_error',
        error_id: expect.stringMatching(/^[0-9a-f]{8}$/),
      });
      expect(res.body).not.toContain('PIIMARK');
      expect(res.body).not.toContain('v2.');
    }
    // The source row is untouched and still reads correctly.
    expect(await ok(await send('GET', `/api/journal/${first}/`, alice.access))).toMatchObject({
      activities: marker('activities1'),
    });

    // Another owner: the note moved to someone else in the database without being sealed again.
    await t.c.db.execute(sql`update admin_notes set candidate_id = ${admin.id} where id = ${seeded.noteId}`);
    const note = await send('GET', `/api/admin-notes/${seeded.noteId}/`, admin.access);
    expect(note.statusCode, note.body).toBe(500);
    expect(note.body).not.toContain('PIIMARK');
  });
});
