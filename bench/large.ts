/**
 * `--scale large`: candidates with journal entries written straight into the database (multi-row
 * INSERTs from arrays, not the API). Every candidate gets an empty profile and a data key wrapped by
 * the run's master key, and every entry's text columns are real ciphertext sealed with the service's
 * own code (lib/crypto/field-cipher.ts, journal/serialize.ts), so any of them can be read through the
 * API. No audit rows are generated.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createFieldCipher } from '../src/lib/crypto/field-cipher.js';
import { createPasswordHasher } from '../src/lib/password-hasher.js';
import { sealEntry } from '../src/modules/journal/serialize.js';
import { entryBody, PASSWORD } from './seed.js';
import type { BenchSecrets } from './service.js';

const DAY_MS = 86_400_000;
const USERS_PER_BATCH = 500;
/** Entries fall within the last two years, so "recent" figures count about 1 % of them. */
const SPAN_DAYS = 730;

type Cipher = ReturnType<typeof createFieldCipher>;

interface EntryArrays {
  id: number[];
  userId: number[];
  date: string[];
  mood: string[];
  energy: number[];
  barrierCount: number[];
  /** The entry's sealed record (one envelope per row). */
  sealed: string[];
  createdAt: string[];
}

function cipherOf(secrets: BenchSecrets): Cipher {
  const [kid = '', b64 = ''] = secrets.fieldKeys.split(':');
  return createFieldCipher({
    keys: new Map([[kid, Buffer.from(b64, 'base64')]]),
    activeKeyId: secrets.fieldKeyId,
    blindIndexKey: Buffer.from(secrets.blindIndexKey, 'base64'),
  });
}

/** Distinct dates per candidate: a random start and a random step, both within the span. */
function datesFor(count: number, today: number): string[] {
  const step =
    1 + Math.floor(Math.random() * Math.max(1, Math.floor((SPAN_DAYS - 1) / Math.max(1, count - 1))));
  const start = Math.floor(Math.random() * Math.max(1, SPAN_DAYS - step * (count - 1)));
  return Array.from({ length: count }, (_, k) =>
    new Date(today - (start + k * step) * DAY_MS).toISOString().slice(0, 10),
  );
}

function sealBatch(
  cipher: Cipher,
  userIds: number[],
  keys: Map<number, Buffer>,
  entryIds: number[],
  perUser: number,
): EntryArrays {
  const a: EntryArrays = {
    id: [],
    userId: [],
    date: [],
    mood: [],
    energy: [],
    barrierCount: [],
    sealed: [],
    createdAt: [],
  };
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  let next = 0;
  for (const userId of userIds) {
    const dek = keys.get(userId);
    if (!dek) throw new Error(`no key for ${userId}`);
    for (const date of datesFor(perUser, today)) {
      const id = entryIds[next];
      if (id === undefined) throw new Error('not enough reserved ids');
      const body = entryBody(date, next);
      next += 1;
      const sealed = sealEntry(
        cipher,
        dek,
        { id, userId },
        {
          activities: body.activities,
          challenges: body.challenges,
          achievements: body.achievements,
          notes: body.notes,
          barriers_faced: body.barriers_faced,
        },
      );
      a.id.push(id);
      a.userId.push(userId);
      a.date.push(date);
      a.mood.push(body.mood);
      a.energy.push(body.energy_level);
      a.barrierCount.push(body.barrier_count);
      a.sealed.push(sealed.sealed);
      a.createdAt.push(`${date}T16:00:00Z`);
    }
  }
  return a;
}

async function insertEntries(pool: pg.Pool, a: EntryArrays): Promise<void> {
  await pool.query(
    `insert into journal_entries (id, user_id, date, mood, energy_level, barrier_count, sealed, created_at,
       updated_at)
     select e.*, e.created_at from unnest($1::bigint[], $2::bigint[], $3::date[], $4::mood[], $5::smallint[],
       $6::int[], $7::text[], $8::timestamptz[])
       as e(id, user_id, date, mood, energy_level, barrier_count, sealed, created_at)`,
    [a.id, a.userId, a.date, a.mood, a.energy, a.barrierCount, a.sealed, a.createdAt],
  );
}

/** Inserts a batch of candidates with profiles and data keys; returns their ids and keys. */
async function insertCandidates(
  pool: pg.Pool,
  cipher: Cipher,
  emails: string[],
  passwordHash: string,
): Promise<{ ids: number[]; keys: Map<number, Buffer> }> {
  const intake = emails.map((_, i) => i % 2 === 0);
  const inserted = await pool.query<{ id: string }>(
    `insert into users (email, password, first_name, last_name, role, has_completed_intake)
     select e, $2, 'Generated', 'Candidate', 'candidate', i from unnest($1::text[], $3::boolean[]) as u(e, i)
     returning id`,
    [emails, passwordHash, intake],
  );
  const ids = inserted.rows.map((r) => Number(r.id));
  await pool.query('insert into user_profiles (user_id) select unnest($1::bigint[])', [ids]);
  const keys = new Map<number, Buffer>();
  const wrapped = ids.map((id) => {
    const dek = cipher.newDataKey();
    keys.set(id, dek);
    return cipher.wrap(id, dek);
  });
  await pool.query(
    `insert into data_keys (user_id, master_key_id, wrapped_key)
     select * from unnest($1::bigint[], $2::text[], $3::text[])`,
    [ids, wrapped.map((w) => w.masterKeyId), wrapped.map((w) => w.wrappedKey)],
  );
  return { ids, keys };
}

export interface LargeSet {
  seconds: number;
  candidates: number;
  entries: number;
  /** A generated candidate whose entries the bench reads through the API to prove they decrypt. */
  sampleUserId: number;
}

export async function seedLarge(
  databaseUrl: string,
  secrets: BenchSecrets,
  candidates: number,
  perUser: number,
): Promise<LargeSet> {
  const started = Date.now();
  const cipher = cipherOf(secrets);
  const passwordHash = await createPasswordHasher().hash(PASSWORD);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 3 });
  const run = randomBytes(3).toString('hex');
  let pending: Promise<void> = Promise.resolve();
  let sampleUserId = 0;
  let reported = 0;
  try {
    for (let done = 0; done < candidates; done += USERS_PER_BATCH) {
      const n = Math.min(USERS_PER_BATCH, candidates - done);
      const emails = Array.from({ length: n }, (_, i) => `gen${done + i}.${run}@capaciti.org.za`);
      const { ids, keys } = await insertCandidates(pool, cipher, emails, passwordHash);
      sampleUserId ||= ids[0] ?? 0;
      const reserved = await pool.query<{ id: string }>(
        `select nextval(pg_get_serial_sequence('journal_entries', 'id')) as id from generate_series(1, $1)`,
        [n * perUser],
      );
      // Sealing the next batch overlaps the database writing the previous one.
      const arrays = sealBatch(
        cipher,
        ids,
        keys,
        reserved.rows.map((r) => Number(r.id)),
        perUser,
      );
      await pending;
      pending = insertEntries(pool, arrays);
      // Awaited before the next batch; this only keeps a failure meanwhile from counting as unhandled.
      pending.catch(() => undefined);
      if ((done + n) / candidates >= reported + 0.1) {
        reported = Math.floor(((done + n) / candidates) * 10) / 10;
        console.log(`#   ${done + n} candidates, ${((Date.now() - started) / 1000).toFixed(0)} s`);
      }
    }
    await pending;
    console.log('#   vacuum analyze');
    await pool.query('vacuum analyze users, user_profiles, data_keys, journal_entries');
  } finally {
    await pool.end();
  }
  return {
    seconds: (Date.now() - started) / 1000,
    candidates,
    entries: candidates * perUser,
    sampleUserId,
  };
}
