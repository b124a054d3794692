import { randomInt } from 'node:crypto';
import { sha256Hex } from '../../lib/crypto/hash.js';

/**
 * Backup codes (spec auth.md §4): 10 per generation, 8 characters of A–Z0–9 shown `XXXX-XXXX`,
 * stored as the SHA-256 of that form, single use.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const BACKUP_CODE_COUNT = 10;

export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  const codes = new Set<string>();
  while (codes.size < count) {
    let raw = '';
    for (let i = 0; i < 8; i += 1) raw += ALPHABET.charAt(randomInt(ALPHABET.length));
    codes.add(`${raw.slice(0, 4)}-${raw.slice(4)}`);
  }
  return [...codes];
}

/** Trimmed, upper-cased, spaces removed, hyphen inserted after 4 characters when missing. */
export function normaliseBackupCode(input: string): string {
  const s = input.trim().toUpperCase().replace(/\s+/g, '');
  return s.length === 8 && !s.includes('-') ? `${s.slice(0, 4)}-${s.slice(4)}` : s;
}

export const hashBackupCode = (code: string) => sha256Hex(normaliseBackupCode(code));
