import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Envelope encryption for sensitive data (docs/privacy.md#encryption-and-keys):
 *  - each user has a random 256-bit data key (DEK), stored wrapped (AES-256-GCM) by a versioned
 *    master key; the wrap is bound to the user id;
 *  - a row's sensitive fields are one record (`sealRecord`): AES-256-GCM under the DEK with a fresh
 *    96-bit nonce over the fields as one JSON object, bound as associated data to table, row and
 *    owner (sealed-record.ts), so one decryption opens the row and a record copied elsewhere fails;
 *  - a single value (`encrypt`: TOTP secret, export document, a shared-store value, and the
 *    per-field columns written before records) is bound to table, column and row the same way.
 * Stored forms: `v1.` (one value) or `v2.` (one record) + base64url(nonce | ciphertext | tag).
 */
const VALUE = 'v1.';
const RECORD = 'v2.';
const NONCE = 12;
const TAG = 16;

export class DecryptionError extends Error {
  constructor() {
    super('ciphertext could not be decrypted');
    this.name = 'DecryptionError';
  }
}

function seal(key: Buffer, plaintext: Buffer, aad: string, version = VALUE): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return version + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
}

function open(key: Buffer, sealed: string, aad: string, version = VALUE): Buffer {
  if (!sealed.startsWith(version)) throw new DecryptionError();
  const raw = Buffer.from(sealed.slice(version.length), 'base64url');
  if (raw.length < NONCE + TAG) throw new DecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, NONCE));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(raw.subarray(raw.length - TAG));
    return Buffer.concat([decipher.update(raw.subarray(NONCE, raw.length - TAG)), decipher.final()]);
  } catch {
    throw new DecryptionError();
  }
}

export interface MasterKeys {
  keys: ReadonlyMap<string, Buffer>;
  activeKeyId: string;
  blindIndexKey: Buffer;
}

export interface WrappedKey {
  masterKeyId: string;
  wrappedKey: string;
}

export const fieldAad = (table: string, column: string, rowId: number | string) =>
  `${table}.${column}.${rowId}`;

export function createFieldCipher(master: MasterKeys) {
  const masterKey = (kid: string) => {
    const key = master.keys.get(kid);
    if (!key) throw new Error(`master key "${kid}" is not configured`);
    return key;
  };
  return {
    activeKeyId: master.activeKeyId,
    newDataKey(): Buffer {
      return randomBytes(32);
    },
    wrap(userId: number, dek: Buffer, kid = master.activeKeyId): WrappedKey {
      return { masterKeyId: kid, wrappedKey: seal(masterKey(kid), dek, `dek.${userId}`) };
    },
    unwrap(userId: number, wrapped: WrappedKey): Buffer {
      return open(masterKey(wrapped.masterKeyId), wrapped.wrappedKey, `dek.${userId}`);
    },
    encrypt(dek: Buffer, plaintext: string, aad: string): string {
      return seal(dek, Buffer.from(plaintext, 'utf8'), aad);
    },
    decrypt(dek: Buffer, sealed: string, aad: string): string {
      return open(dek, sealed, aad).toString('utf8');
    },
    /** Seals several fields as one JSON object (one nonce, one tag): see sealed-record.ts. */
    sealRecord(dek: Buffer, fields: Readonly<Record<string, unknown>>, aad: string): string {
      return seal(dek, Buffer.from(JSON.stringify(fields), 'utf8'), aad, RECORD);
    },
    /** Opens a record sealed by `sealRecord` under the same associated data; DecryptionError otherwise. */
    openRecord(dek: Buffer, sealed: string, aad: string): Record<string, unknown> {
      const text = open(dek, sealed, aad, RECORD).toString('utf8');
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new DecryptionError();
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new DecryptionError();
      return value as Record<string, unknown>;
    },
    /** Keyed HMAC-SHA256 for lookups and uniqueness of a value that is stored encrypted. */
    blindIndex(value: string): string {
      return createHmac('sha256', master.blindIndexKey).update(value, 'utf8').digest('hex');
    },
  };
}
export type FieldCipher = ReturnType<typeof createFieldCipher>;
