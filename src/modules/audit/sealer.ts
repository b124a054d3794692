import type { Db } from '../../db/client.js';
import { chainKeyId, checkpointMac, entryMac, sameMac } from './chain-mac.js';
import { createChainRepo, type SealedLink } from './chain-repo.js';

/** Entries sealed per transaction. */
export const SEAL_BATCH_SIZE = 1000;

export interface SealBatchResult {
  /** Another sealer held the lock: nothing was done. */
  busy: boolean;
  /** Entries this batch sealed. */
  sealed: number;
  /** The chain's head after the batch (null: the chain is empty). */
  head: { seq: number; hash: string } | null;
}

/** The chain's head disagrees with its last checkpoint: sealing stops until someone looks. */
export class ChainHeadError extends Error {
  constructor(detail: string) {
    super(`audit chain head does not match its last checkpoint (${detail}); run audit:verify`);
    this.name = 'ChainHeadError';
  }
}

export interface SealerDeps {
  db: Db;
  now: () => Date;
  /** The chain key (chain-mac.ts `chainKey`). */
  key: Buffer;
}

/**
 * Seals one batch (docs/privacy.md#append-only-chain): in ONE transaction, under the sealer's lock
 * (one sealer at a time in the cluster, off every request path), takes the unsealed entries whose
 * transactions certainly committed, in (xid, id) order, gives them the next `seq`s after the head, links
 * each to its predecessor's hash and hashes it with the chain key, then writes a signed checkpoint
 * of the new head. The head is the last checkpoint; a chain sealed before the sealer existed (SQL
 * SHA-256, scheme 1) is adopted by a first checkpoint over its last entry.
 * SECURITY: the sealer never extends a chain whose head does not match a valid checkpoint.
 */
export async function sealBatch(
  { db, now, key }: SealerDeps,
  opts: { wait: boolean; batchSize?: number },
): Promise<SealBatchResult> {
  const keyId = chainKeyId(key);
  return db.transaction(async (tx) => {
    const repo = createChainRepo(tx);
    if (!(await repo.lockSealer(opts.wait))) return { busy: true, sealed: 0, head: null };

    // Read after the lock: each statement sees what the previous sealer committed.
    const checkpoint = await repo.latestCheckpoint();
    const last = await repo.lastSealed();
    if (checkpoint) {
      if (checkpoint.keyId !== keyId) throw new ChainHeadError('it was signed with another chain key');
      if (!sameMac(checkpoint.mac, checkpointMac(key, checkpoint)))
        throw new ChainHeadError(`checkpoint at seq ${String(checkpoint.seq)} has a bad signature`);
      if (!last || last.seq !== checkpoint.seq || last.hash !== checkpoint.hash)
        throw new ChainHeadError(
          `last entry seq ${String(last?.seq ?? 'none')}, checkpoint seq ${String(checkpoint.seq)}`,
        );
    }
    let head = checkpoint
      ? { seq: checkpoint.seq, hash: checkpoint.hash }
      : last?.hash
        ? { seq: last.seq, hash: last.hash }
        : null;
    if (!checkpoint && last && !last.hash)
      throw new ChainHeadError(`entry seq ${String(last.seq)} has no hash`);

    const entries = await repo.eligible(opts.batchSize ?? SEAL_BATCH_SIZE);
    // Nothing to seal, and the head is signed already (or there is no chain yet).
    if (entries.length === 0 && (checkpoint || !head)) return { busy: false, sealed: 0, head };

    const links: SealedLink[] = [];
    for (const entry of entries) {
      const seq = (head?.seq ?? 0) + 1;
      const prevHash = head?.hash ?? null;
      const hash = entryMac(key, seq, prevHash, entry.content);
      links.push({ id: entry.id, seq, prevHash, hash });
      head = { seq, hash };
    }
    if (links.length > 0) {
      await repo.allowSeal();
      const written = await repo.seal(links);
      // Another writer sealed one of them meanwhile (it cannot, under the lock): write nothing.
      if (written !== links.length)
        throw new Error(`sealed ${String(written)} of ${String(links.length)} audit entries`);
    }
    if (!head) return { busy: false, sealed: 0, head };
    const fields = { seq: head.seq, hash: head.hash, at: now(), sealed: links.length, keyId };
    await repo.insertCheckpoint({ ...fields, mac: checkpointMac(key, fields) });
    return { busy: false, sealed: links.length, head };
  });
}
