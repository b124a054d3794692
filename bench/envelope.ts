/**
 * One envelope per row (docs/privacy.md#one-envelope-per-row), measured (docs/PERFORMANCE.md):
 *
 *  1. micro: opening (and sealing) a journal page of 20 entries with five sensitive fields each, as
 *     100 per-field `v1.` ciphertexts (before) and as 20 `v2.` records (after), node:crypto only;
 *  2. a journal page through the app (in-process, embedded database): GET /api/journal/?page_size=20
 *     with the rows as records, then with the same rows turned back into the per-field format, and
 *     the decryptions each costs (counted on the cipher).
 *
 *   npx tsx bench/envelope.ts            (BENCH_ITERATIONS=… to change the micro loop, default 2000)
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { journalRecord } from '../src/db/sealed-records.js';
import { createFieldCipher, fieldAad } from '../src/lib/crypto/field-cipher.js';
import { createTestApp, registerCandidate } from '../test/helpers/app.js';
import { journalToPerField } from '../test/helpers/per-field-format.js';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
const ROWS = 20;
const FIELDS = ['activities', 'challenges', 'achievements', 'notes', 'barriers_faced'] as const;
const text = (n: number) => 'A journal line about the day, with some detail. '.repeat(n);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * The machine is shared and noisy: the variants run in alternating rounds (ROUNDS of each, after a
 * warm-up) and the median round is reported, so drift hits all of them alike.
 */
const ROUNDS = 7;
function compare(cases: [string, () => void][]) {
  for (const [, work] of cases) for (let i = 0; i < 200; i += 1) work();
  const samples = cases.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [i, [, work]] of cases.entries()) {
      const start = performance.now();
      for (let n = 0; n < ITERATIONS / ROUNDS; n += 1) work();
      samples[i]?.push(((performance.now() - start) * 1000) / (ITERATIONS / ROUNDS));
    }
  }
  const out = cases.map(([label], i) => {
    const perPage = median(samples[i] ?? []);
    console.log(
      `${label.padEnd(44)} ${perPage.toFixed(1).padStart(8)} µs per page (median of ${String(ROUNDS)} rounds)`,
    );
    return perPage;
  });
  return out;
}

function micro() {
  const cipher = createFieldCipher({
    keys: new Map([['k1', randomBytes(32)]]),
    activeKeyId: 'k1',
    blindIndexKey: randomBytes(32),
  });
  const dek = randomBytes(32);
  const plain = Object.fromEntries(FIELDS.map((f, i) => [f, text(i + 1)])) as Record<
    (typeof FIELDS)[number],
    string
  >;
  const rows = Array.from({ length: ROWS }, (_, i) => {
    const id = 1000 + i;
    return {
      id,
      perField: Object.fromEntries(
        FIELDS.map((f) => [f, cipher.encrypt(dek, plain[f], fieldAad('journal_entries', f, id))]),
      ) as Record<(typeof FIELDS)[number], string>,
      sealed: journalRecord.seal(cipher, dek, { rowKey: id, ownerId: 7 }, plain),
    };
  });
  console.log(
    `micro: ${String(ROWS)} rows × ${String(FIELDS.length)} fields, ${String(ITERATIONS)} pages each`,
  );
  const [before = NaN, after = NaN] = compare([
    [
      'open, per field (100 decryptions)',
      () => {
        for (const row of rows)
          for (const f of FIELDS)
            cipher.decrypt(dek, row.perField[f], fieldAad('journal_entries', f, row.id));
      },
    ],
    [
      'open, one record per row (20 decryptions)',
      () => {
        for (const row of rows) journalRecord.open(cipher, dek, { rowKey: row.id, ownerId: 7 }, row.sealed);
      },
    ],
  ]);
  const [sealBefore = NaN, sealAfter = NaN] = compare([
    [
      'seal, per field (100 encryptions)',
      () => {
        for (const row of rows)
          for (const f of FIELDS) cipher.encrypt(dek, plain[f], fieldAad('journal_entries', f, row.id));
      },
    ],
    [
      'seal, one record per row (20 encryptions)',
      () => {
        for (const row of rows) journalRecord.seal(cipher, dek, { rowKey: row.id, ownerId: 7 }, plain);
      },
    ],
  ]);
  console.log(
    `open ×${(before / after).toFixed(2)} faster, seal ×${(sealBefore / sealAfter).toFixed(2)} faster`,
  );
}

/** A candidate with 20 journal entries (through the API). */
async function candidateWithPage(t: Awaited<ReturnType<typeof createTestApp>>) {
  const user = await registerCandidate(t);
  const ids: number[] = [];
  for (let day = 1; day <= ROWS; day += 1) {
    const res = await t.request({
      method: 'POST',
      url: '/api/journal/',
      token: user.access,
      payload: {
        date: `2025-03-${String(day).padStart(2, '0')}`,
        mood: 'good',
        energy_level: 5,
        ...Object.fromEntries(FIELDS.map((f, i) => [f, text(i + 1)])),
      },
    });
    ids.push(res.json<{ id: number }>().id);
  }
  return { access: user.access, ids };
}

async function throughTheApp() {
  const t = await createTestApp({ RATE_LIMIT_USER: 'off' });
  try {
    const records = await candidateWithPage(t);
    const perField = await candidateWithPage(t);
    for (const id of perField.ids) await journalToPerField(t.c, id);
    const get = (token: string) => t.request({ method: 'GET', url: '/api/journal/?page_size=20', token });

    const { cipher } = t.c;
    const decrypt = cipher.decrypt.bind(cipher);
    const openRecord = cipher.openRecord.bind(cipher);
    const decryptions = async (token: string) => {
      let n = 0;
      cipher.decrypt = (...args) => ((n += 1), decrypt(...args));
      cipher.openRecord = (...args) => ((n += 1), openRecord(...args));
      await get(token);
      cipher.decrypt = decrypt;
      cipher.openRecord = openRecord;
      return n;
    };
    const cases = [
      ['records (after)', records.access],
      ['per-field columns (before)', perField.access],
    ] as const;
    const counts: number[] = [];
    for (const [, token] of cases) counts.push(await decryptions(token));
    for (let i = 0; i < 50; i += 1) for (const [, token] of cases) await get(token);
    const samples = cases.map(() => [] as number[]);
    for (let i = 0; i < 400; i += 1) {
      for (const [k, [, token]] of cases.entries()) {
        const start = performance.now();
        await get(token);
        samples[k]?.push(performance.now() - start);
      }
    }
    console.log(
      'GET /api/journal/?page_size=20 in-process (embedded database, one client, 400 requests each, alternating):',
    );
    for (const [k, [label]] of cases.entries()) {
      console.log(
        `${label.padEnd(28)} ${String(counts[k]).padStart(4)} decryptions per page, median ${median(samples[k] ?? []).toFixed(2)} ms per request`,
      );
    }
  } finally {
    await t.close();
  }
}

micro();
await throughTheApp();
