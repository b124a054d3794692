import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * The keyed audit chain (docs/privacy.md#append-only-chain): every sealed entry's `hash` is an
 * HMAC-SHA-256, under a key the database never holds, over a canonical serialisation of the entry's
 * content, its `seq` and `prev_hash`; each checkpoint is an HMAC over the chain's head. Whoever can
 * write the tables cannot recompute either. Pure functions: the sealer and the verifier share them.
 */

/** `chain_scheme` of the entries the SQL trigger of migrations/0004 hashed (plain SHA-256, no key). */
export const LEGACY_SCHEME = 1;
/** `chain_scheme` of the entries the sealer hashed with the chain key. */
export const KEYED_SCHEME = 2;

/**
 * The chain key: `AUDIT_CHAIN_KEY` when set, else a sub-key of `BLIND_INDEX_KEY` (HKDF-SHA-256,
 * labelled, so it is unrelated to the blind index itself). Neither ever reaches the database.
 */
export function chainKey(keys: { auditChainKey: Buffer | undefined; blindIndexKey: Buffer }): Buffer {
  return (
    keys.auditChainKey ??
    Buffer.from(hkdfSync('sha256', keys.blindIndexKey, Buffer.alloc(0), 'pss/audit-chain/v1', 32))
  );
}

/** Names the key in checkpoints without revealing it: a key change reads as such, not as tampering. */
export const chainKeyId = (key: Buffer): string => mac(key, ['pss/audit-chain-key-id/v1']).slice(0, 16);

/**
 * An entry's content as the chain covers it: every column but the chain's own (`seq`, `prev_hash`,
 * `hash`, `chain_scheme`) and `xid`, each as the database renders it as text (null stays null), in
 * the order of `CHAIN_CONTENT` (chain-repo.ts). A new column needs a new scheme.
 */
export type EntryContent = readonly (string | null)[];

/** JSON of strings and nulls: unambiguous (no separator a value could contain), stable, cheap. */
const mac = (key: Buffer, parts: readonly (string | null)[]): string =>
  createHmac('sha256', key).update(JSON.stringify(parts), 'utf8').digest('hex');

/** The `hash` of the entry at `seq` whose predecessor's hash is `prevHash` (null for the first). */
export const entryMac = (key: Buffer, seq: number, prevHash: string | null, content: EntryContent): string =>
  mac(key, ['pss/audit-entry/v2', String(seq), prevHash, ...content]);

export interface CheckpointFields {
  /** The chain's head after the batch: its last entry's seq and hash. */
  seq: number;
  hash: string;
  at: Date;
  /** Entries the batch sealed (0 for the checkpoint that adopts a chain sealed before the sealer). */
  sealed: number;
  keyId: string;
}

export const checkpointMac = (key: Buffer, c: CheckpointFields): string =>
  mac(key, ['pss/audit-checkpoint/v1', String(c.seq), c.hash, c.at.toISOString(), String(c.sealed), c.keyId]);

/** Constant-time comparison of two hex MACs. */
export function sameMac(a: string | null, b: string): boolean {
  if (a === null || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
