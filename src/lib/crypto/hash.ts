import { createHash } from 'node:crypto';

/** SHA-256 as lower-case hex: how tokens, codes and session keys are stored instead of the secret itself. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
