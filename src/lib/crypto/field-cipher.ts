import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Envelope encryption for sensitive fields (docs/privacy.md#encryption-and-keys):
 *  - each user has a random 256-bit data key (DEK), stored wrapped (AES-256-GCM) by a versioned
 *    master key; the wrap is bound to the user id;
 *  - each value is AES-256-GCM under the DEK with a fresh 96-bit nonce and bound, as associated
 *    data, to table, column and row, so a ciphertext copied elsewhere fails to decrypt.
 * Stored form: `v1.` + base64url(nonce | ciphertext | tag).
 */
const VERSION = 'v1.';
const NONCE = 12;
const TAG = 16;

export class DecryptionError extends Error {
  constructor() {
    super('ciphertext could not be decrypted');
    this.name = 'DecryptionError';
  }
}

function seal(key: Buffer, plaintext: Buffer, aad: string): string {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return VERSION + Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
}

function open(key: Buffer, sealed: string, aad: string): Buffer {
  if (!sealed.startsWith(VERSION)) throw new DecryptionError();
  const raw = Buffer.from(sealed.slice(VERSION.length), 'base64url');
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
    /** Keyed HMAC-SHA256 for lookups and uniqueness of a value that is stored encrypted. */
    blindIndex(value: string): string {
      return createHmac('sha256', master.blindIndexKey).update(value, 'utf8').digest('hex');
    },
  };
}
export type FieldCipher = ReturnType<typeof createFieldCipher>;
