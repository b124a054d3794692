import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, link, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { asc, gt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { dataKeys } from '../../db/schema.js';

/**
 * Key backups (docs/privacy.md#key-backups): the `data_keys` table written to files of their own in
 * `KEY_BACKUP_DIR`, each kept no longer than `KEY_BACKUP_RETENTION_DAYS`. A data key is only ever
 * stored wrapped by a master key, so a backup file is unreadable without `FIELD_ENCRYPTION_KEYS`.
 * Erasure deletes a person's data key (crypto-shredding); the retention bounds how long that key can
 * live on in a backup: after it, nothing anywhere opens that person's records.
 *
 * A file is JSON Lines: a header, one line per data key, then a trailer with the count and the
 * SHA-256 of the key lines, so a cut or edited file is refused by the restore.
 */
export const KEY_BACKUP_FORMAT = 'pss-data-keys';
const FORMAT_VERSION = 1;
const BATCH = 1000;
const NAME = /^data-keys-(\d{8}T\d{9}Z)\.jsonl$/;
/** A half-written file left by a crash is removed once this old (a backup never takes this long). */
const STALE_PARTIAL_MS = 86_400_000;

export interface BackedUpKey {
  user_id: number;
  master_key_id: string;
  wrapped_key: string;
  created_at: string;
}

export interface KeyBackupFile {
  file: string;
  takenAt: Date;
}

/** `20261207T013000123Z`: sortable, and the time the retention is counted from (not the file's mtime). */
const stamp = (at: Date) => at.toISOString().replace(/[-:.]/g, '');

function stampTime(s: string): Date {
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13, 15)}.${s.slice(15, 18)}Z`;
  return new Date(iso);
}

/** The backups in `dir`, oldest first (files of other names are not ours and are never touched). */
export async function listKeyBackups(dir: string): Promise<KeyBackupFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .flatMap((name) => {
      const m = NAME.exec(name);
      if (!m?.[1]) return [];
      const takenAt = stampTime(m[1]);
      return Number.isNaN(takenAt.getTime()) ? [] : [{ file: join(dir, name), takenAt }];
    })
    .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime());
}

/**
 * Writes every data key to a new file in `dir` (a 0700 directory; the file 0600). The file appears
 * under its final name only when complete: written to a `.partial` of its own, synced to disk, then
 * linked to its name, which fails rather than replacing another backup of the same millisecond.
 */
export async function writeKeyBackup(deps: {
  db: Db;
  dir: string;
  now: () => Date;
  /** Keys read per statement (tests make it small). */
  batchSize?: number;
}): Promise<{
  file: string;
  keys: number;
}> {
  const takenAt = deps.now();
  const batchSize = deps.batchSize ?? BATCH;
  await mkdir(deps.dir, { recursive: true, mode: 0o700 });
  await chmod(deps.dir, 0o700);
  const file = join(deps.dir, `data-keys-${stamp(takenAt)}.jsonl`);
  const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
  const out = await open(partial, 'wx', 0o600);
  const digest = createHash('sha256');
  let keys = 0;
  try {
    let buffered: string[] = [
      JSON.stringify({ format: KEY_BACKUP_FORMAT, version: FORMAT_VERSION, taken_at: takenAt.toISOString() }),
    ];
    let after = 0;
    for (;;) {
      const rows = await deps.db
        .select()
        .from(dataKeys)
        .where(gt(dataKeys.userId, after))
        .orderBy(asc(dataKeys.userId))
        .limit(batchSize);
      for (const row of rows) {
        const line = JSON.stringify({
          user_id: row.userId,
          master_key_id: row.masterKeyId,
          wrapped_key: row.wrappedKey,
          created_at: row.createdAt.toISOString(),
        } satisfies BackedUpKey);
        digest.update(`${line}\n`);
        buffered.push(line);
      }
      // One write per batch: a failing disk is an error of this call, never an unhandled event. (A last
      // batch with no rows, when the count is a multiple of the batch size, writes nothing.)
      if (buffered.length > 0) await out.write(`${buffered.join('\n')}\n`);
      buffered = [];
      keys += rows.length;
      const last = rows.at(-1);
      if (!last || rows.length < batchSize) break;
      after = last.userId;
    }
    await out.write(`${JSON.stringify({ end: true, keys, sha256: digest.digest('hex') })}\n`);
    await out.sync();
    await out.close();
    await link(partial, file);
    await syncDirectory(deps.dir);
  } catch (err) {
    await out.close().catch(() => undefined);
    throw err;
  } finally {
    await rm(partial, { force: true });
  }
  return { file, keys };
}

/** Makes a new name in `dir` durable (a crash after this keeps the file under its name). */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Deletes the backups taken more than `retentionDays` ago, and half-written files left by a crash.
 * Counted from the time in the file's name, so a copied or touched file does not live longer.
 */
export async function pruneKeyBackups(deps: {
  dir: string;
  retentionDays: number;
  now: () => Date;
}): Promise<{
  deleted: number;
  kept: number;
}> {
  const cutoff = deps.now().getTime() - deps.retentionDays * 86_400_000;
  const backups = await listKeyBackups(deps.dir);
  let deleted = 0;
  for (const b of backups) {
    if (b.takenAt.getTime() >= cutoff) continue;
    await rm(b.file, { force: true });
    deleted += 1;
  }
  for (const name of await readdir(deps.dir).catch(() => [] as string[])) {
    if (!name.startsWith('data-keys-') || !name.endsWith('.partial')) continue;
    const path = join(deps.dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info && deps.now().getTime() - info.mtimeMs > STALE_PARTIAL_MS) await rm(path, { force: true });
  }
  return { deleted, kept: backups.length - deleted };
}

export class KeyBackupError extends Error {}

/**
 * Reads a backup file whole and checks it: the header's format, every line's shape, and the
 * trailer's count and digest. Throws `KeyBackupError` naming the line; yields nothing on a bad file.
 */
export async function readKeyBackup(file: string): Promise<{ takenAt: Date; keys: BackedUpKey[] }> {
  const input = createReadStream(file);
  try {
    return await readLines(createInterface({ input, crlfDelay: Infinity }));
  } finally {
    input.destroy();
  }
}

async function readLines(lines: AsyncIterable<string>): Promise<{ takenAt: Date; keys: BackedUpKey[] }> {
  const digest = createHash('sha256');
  const keys: BackedUpKey[] = [];
  let takenAt: Date | undefined;
  let trailer: { keys: number; sha256: string } | undefined;
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (trailer) throw new KeyBackupError(`line ${String(n)}: text after the end of the backup`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new KeyBackupError(`line ${String(n)}: not JSON`);
    }
    const v = value as Record<string, unknown>;
    if (n === 1) {
      if (v.format !== KEY_BACKUP_FORMAT || v.version !== FORMAT_VERSION || typeof v.taken_at !== 'string')
        throw new KeyBackupError(
          `not a key backup of this service (${KEY_BACKUP_FORMAT} version ${String(FORMAT_VERSION)})`,
        );
      takenAt = new Date(v.taken_at);
      continue;
    }
    if (v.end === true) {
      if (typeof v.keys !== 'number' || typeof v.sha256 !== 'string')
        throw new KeyBackupError(`line ${String(n)}: a trailer without its count and digest`);
      trailer = { keys: v.keys, sha256: v.sha256 };
      continue;
    }
    if (
      !Number.isSafeInteger(v.user_id) ||
      typeof v.master_key_id !== 'string' ||
      typeof v.wrapped_key !== 'string' ||
      typeof v.created_at !== 'string' ||
      Number.isNaN(new Date(v.created_at).getTime())
    )
      throw new KeyBackupError(`line ${String(n)}: not a data key`);
    digest.update(`${line}\n`);
    keys.push(v as unknown as BackedUpKey);
  }
  if (!takenAt || Number.isNaN(takenAt.getTime()))
    throw new KeyBackupError('the file is empty or has no header');
  if (!trailer) throw new KeyBackupError('the file is cut short: it has no trailer');
  if (trailer.keys !== keys.length || trailer.sha256 !== digest.digest('hex'))
    throw new KeyBackupError('the file was changed or cut: its count or digest does not match its keys');
  return { takenAt, keys };
}
