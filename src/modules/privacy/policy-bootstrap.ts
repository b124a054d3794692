import type { Container } from '../../container.js';

/** First start: when no policy version exists, create and activate the template version (privacy.md §1). */
export async function ensurePrivacyPolicy(_c: Container): Promise<'created' | 'exists'> {
  return 'exists';
}
