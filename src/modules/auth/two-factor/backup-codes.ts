import { createHmac, hkdfSync, randomInt } from 'node:crypto';
import { sha256Hex } from '../../../lib/crypto/hash.js';

/**
 * Backup codes (docs/auth.md#backup-codes): 10 per generation, single use. A code is 12
 * characters of A–Z0–9 (62 bits) shown `XXXX-XXXX-XXXX`; the original's 8 characters (41 bits,
 * `XXXX-XXXX`) stored as a plain SHA-256 could be recovered from a copy of the table by trying them
 * all (docs/contract.md#original-differences item 60).
 *
 * SECURITY: codes are stored as HMAC-SHA-256 under a key derived (HKDF) from BLIND_INDEX_KEY, which
 * never lives in the database, so a leaked table cannot be searched offline. Rows of the earlier
 * format keep working until used or regenerated: an 8-character input is looked up by its plain
 * SHA-256, as stored then.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LENGTH = 12;
const GROUP = 4;
export const BACKUP_CODE_COUNT = 10;

/** A backup code of either format as typed, once whitespace is removed (hyphens optional). */
const INPUT = /^[A-Za-z0-9]{4}-?[A-Za-z0-9]{4}(?:-?[A-Za-z0-9]{4})?$/;
export const isBackupCodeInput = (input: string) => INPUT.test(input.replace(/\s+/g, ''));

const grouped = (raw: string) => raw.match(new RegExp(`.{1,${GROUP}}`, 'g'))?.join('-') ?? raw;

export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    let raw = '';
    for (let i = 0; i < LENGTH; i += 1) raw += ALPHABET.charAt(randomInt(ALPHABET.length));
    codes.add(grouped(raw));
  }
  return [...codes];
}

/** Trimmed, upper-cased, spaces and hyphens removed, then grouped by four with hyphens. */
export function normaliseBackupCode(input: string): string {
  return grouped(input.toUpperCase().replace(/[\s-]+/g, ''));
}

export function createBackupCodeHasher(blindIndexKey: Buffer) {
  const key = Buffer.from(hkdfSync('sha256', blindIndexKey, Buffer.alloc(0), 'pss/2fa-backup-codes/v1', 32));
  const hash = (code: string) =>
    createHmac('sha256', key).update(normaliseBackupCode(code), 'utf8').digest('hex');
  return {
    /** The stored form of a new code. */
    hash,
    /** The stored forms a typed code may match: its keyed hash, or an earlier-format row's SHA-256. */
    lookups(input: string): string[] {
      const code = normaliseBackupCode(input);
      return code.length === 2 * GROUP + 1 ? [sha256Hex(code)] : [hash(code)];
    },
  };
}
export type BackupCodeHasher = ReturnType<typeof createBackupCodeHasher>;
