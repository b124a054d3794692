import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Reading the original's encrypted columns (django-encrypted-model-fields): each value is a Fernet
 * token, `0x80 | 8-byte time | 16-byte IV | AES-128-CBC ciphertext | HMAC-SHA256`, URL-safe base64.
 * The key is URL-safe base64 of 32 bytes (first half signs, second half encrypts). The original's
 * FIELD_ENCRYPTION_KEY may list several keys (MultiFernet): the first that authenticates a token
 * opens it. A value that is not a token was written before the field was encrypted and reads as is,
 * as the original reads it.
 *
 * PRIVACY: the plaintext this returns is health data; callers keep it in memory only, long enough to
 * seal it under this service's keys.
 */
export class LegacyKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LegacyKeyError';
  }
}

/** A token that no given key authenticates (wrong key, or a damaged value). */
export class FernetDecryptError extends Error {
  constructor() {
    super('does not decrypt with LEGACY_FIELD_ENCRYPTION_KEY');
    this.name = 'FernetDecryptError';
  }
}

interface FernetKey {
  signing: Buffer;
  encryption: Buffer;
}

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC = 32;
const TOKEN_PREFIX = 'gAAAAA';

function fromUrlBase64(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Parses `LEGACY_FIELD_ENCRYPTION_KEY`: one key, or several separated by commas (newest first). */
export function parseFernetKeys(raw: string | undefined): FernetKey[] {
  const parts = (raw ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) {
    throw new LegacyKeyError(
      "LEGACY_FIELD_ENCRYPTION_KEY is not set: give it the original's FIELD_ENCRYPTION_KEY (its Fernet key)",
    );
  }
  return parts.map((part, i) => {
    const bytes = /^[A-Za-z0-9_\-+/]+={0,2}$/.test(part) ? fromUrlBase64(part) : Buffer.alloc(0);
    if (bytes.length !== 32) {
      throw new LegacyKeyError(
        `LEGACY_FIELD_ENCRYPTION_KEY${parts.length > 1 ? ` (key ${i + 1})` : ''} is not a Fernet key: ` +
          'expected URL-safe base64 of 32 bytes (44 characters ending in "=")',
      );
    }
    return { signing: bytes.subarray(0, 16), encryption: bytes.subarray(16) };
  });
}

export const isFernetToken = (value: string) => value.startsWith(TOKEN_PREFIX);

function openWith(key: FernetKey, data: Buffer): string | null {
  if (data.length < HEADER + 16 + MAC || data[0] !== VERSION) return null;
  const body = data.subarray(0, data.length - MAC);
  const mac = createHmac('sha256', key.signing).update(body).digest();
  if (!timingSafeEqual(mac, data.subarray(data.length - MAC))) return null;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryption, data.subarray(9, HEADER));
    return Buffer.concat([
      decipher.update(data.subarray(HEADER, data.length - MAC)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return null;
  }
}

export function createFernetReader(keys: FernetKey[]) {
  return {
    /** The plaintext of an encrypted column's value; NULL stays NULL, a non-token reads as is. */
    open(value: string | null): string | null {
      if (value === null || !isFernetToken(value)) return value;
      const data = fromUrlBase64(value);
      for (const key of keys) {
        const plain = openWith(key, data);
        if (plain !== null) return plain;
      }
      throw new FernetDecryptError();
    },
  };
}
export type FernetReader = ReturnType<typeof createFernetReader>;
