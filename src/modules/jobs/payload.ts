import { hkdfSync } from 'node:crypto';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';

/**
 * A job's data at rest (docs/operations.md#background-jobs): an e-mail job holds an address, a name and
 * sometimes a link with a one-time token, so the outbox stores it sealed (AES-256-GCM under a sub-key of
 * the blind-index key, bound to the job's name and row). Queue entries in Redis carry only the row id.
 */
export function createPayloadSealer(cipher: Pick<FieldCipher, 'encrypt' | 'decrypt'>, blindIndexKey: Buffer) {
  const key = Buffer.from(hkdfSync('sha256', blindIndexKey, Buffer.alloc(0), 'pss/job-payload/v1', 32));
  const aad = (job: string) => `job_outbox.payload.${job}`;
  return {
    seal: (job: string, data: unknown): string => cipher.encrypt(key, JSON.stringify(data), aad(job)),
    /** Throws DecryptionError when the text was not sealed for this job with this key. */
    open: (job: string, sealed: string): unknown =>
      JSON.parse(cipher.decrypt(key, sealed, aad(job))) as unknown,
  };
}
export type PayloadSealer = ReturnType<typeof createPayloadSealer>;
