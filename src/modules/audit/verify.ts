import type { DbOrTx } from '../../db/client.js';
import { chainKeyId, checkpointMac, entryMac, KEYED_SCHEME, LEGACY_SCHEME, sameMac } from './chain-mac.js';
import { type ChainEntry, createChainRepo } from './chain-repo.js';

/** Rows read per query while walking the chain. */
export const VERIFY_BATCH_SIZE = 1000;

export interface BrokenLink {
  /** Position in the chain (of the entry, or of the checkpoint that names it). */
  seq: number | null;
  /** The entry's id (null when the problem is a checkpoint's). */
  id: number | null;
  problem: string;
}

export interface ChainVerification {
  ok: boolean;
  /** Entries checked (up to and including the first broken one). */
  checked: number;
  firstBroken?: BrokenLink;
  /** The last checkpoint (null: none yet, as before the first sealing). */
  checkpoint?: { seq: number; hash: string } | null;
}

/**
 * Verifies the audit chain (docs/privacy.md#append-only-chain). Walks the sealed entries in `seq`
 * order: each must follow its predecessor (no gap) and carry its hash as `prev_hash`, and its own
 * hash must match: an HMAC under the chain key (scheme 2), or, for the entries sealed before the
 * keyed chain, the SQL SHA-256 of migrations/0004 (scheme 1, only ever before every keyed entry).
 * Then the checkpoints: each must be signed with the chain key and name an entry with its hash, and
 * the last one must be the chain's head, so entries removed from (or added at) the tail are seen.
 * The first remaining entry may point to an entry removed by the retention purge. Unsealed entries
 * are not part of the chain yet (the caller counts them).
 */
export async function verifyAuditChain(
  db: DbOrTx,
  key: Buffer,
  batchSize = VERIFY_BATCH_SIZE,
): Promise<ChainVerification> {
  const repo = createChainRepo(db);
  let checked = 0;
  let first: number | null = null;
  let keyed = false;
  let previous: { seq: number; hash: string | null } | null = null;
  for (;;) {
    const rows: ChainEntry[] = await repo.chainBatch(previous ? previous.seq : null, batchSize);
    for (const row of rows) {
      checked += 1;
      const problem = entryProblem(key, row, previous, keyed);
      if (problem) return { ok: false, checked, firstBroken: { seq: row.seq, id: row.id, problem } };
      first ??= row.seq;
      keyed ||= row.scheme === KEYED_SCHEME;
      previous = { seq: row.seq, hash: row.hash };
    }
    if (rows.length < batchSize) break;
  }

  // Read after the walk, the head last: a batch sealed meanwhile commits its entries and its
  // checkpoint together, so the checkpoint read last covers at least every entry seen.
  const highest = await repo.highestSeq();
  const broken = (seq: number | null, problem: string): ChainVerification => ({
    ok: false,
    checked,
    firstBroken: { seq, id: null, problem },
  });
  const keyId = chainKeyId(key);
  let latest: { seq: number; hash: string } | null = null;
  for (let after: number | null = null; ;) {
    const checkpoints = await repo.checkpointBatch(first ?? 0, after, batchSize);
    for (const c of checkpoints) {
      const at = `checkpoint at seq ${String(c.seq)}`;
      if (c.keyId !== keyId) return broken(c.seq, `${at} was signed with another chain key`);
      if (!sameMac(c.mac, checkpointMac(key, c))) return broken(c.seq, `${at}: signature does not match`);
      if (c.entryHash === null) return broken(c.seq, `${at}: its entry is missing (entries removed)`);
      if (c.entryHash !== c.hash) return broken(c.seq, `${at}: hash does not match its entry`);
      // Each batch's checkpoint counts what it sealed since the one before: none went missing.
      if (latest && c.seq - latest.seq !== c.sealed)
        return broken(c.seq, `${at}: a checkpoint before it is missing`);
      latest = { seq: c.seq, hash: c.hash };
    }
    if (checkpoints.length < batchSize) break;
    after = latest?.seq ?? null;
  }
  if (highest !== null && latest === null && keyed) {
    return broken(null, 'no checkpoint covers the chain (checkpoints removed)');
  }
  if (highest !== null && latest !== null && highest > latest.seq) {
    return broken(
      highest,
      `entries after the last checkpoint (seq ${String(latest.seq)}) were not sealed by the sealer`,
    );
  }
  return { ok: true, checked, checkpoint: latest };
}

/** What is wrong with one entry, given its predecessor in the walk; null when nothing is. */
function entryProblem(
  key: Buffer,
  row: ChainEntry,
  previous: { seq: number; hash: string | null } | null,
  keyed: boolean,
): string | null {
  if (row.hash === null) return 'entry has no hash';
  if (row.scheme === LEGACY_SCHEME) {
    if (keyed) return 'unkeyed hash after keyed entries (rewritten)';
    if (row.legacyIntact !== true) return 'hash does not match the entry (content changed)';
  } else if (row.scheme === KEYED_SCHEME) {
    if (!sameMac(row.hash, entryMac(key, row.seq, row.prevHash, row.content))) {
      return 'hash does not match the entry (content changed, or not hashed with the chain key)';
    }
  } else {
    return `unknown chain scheme ${String(row.scheme)}`;
  }
  if (previous) {
    if (row.seq !== previous.seq + 1) return `seq does not follow ${String(previous.seq)} (entries removed)`;
    if (row.prevHash !== previous.hash)
      return `prev_hash does not match the hash of seq ${String(previous.seq)}`;
  }
  return null;
}
