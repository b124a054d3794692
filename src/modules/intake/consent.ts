import type { DbOrTx } from '../../db/client.js';

/**
 * Whether the user has granted the `medical_data` consent (spec domain.md §2, privacy.md).
 * Consents arrive with step 4: until then none can exist, so with INTAKE_REQUIRE_MEDICAL_CONSENT
 * on, medical fields are always refused. Replace this body with the consent lookup then.
 */
export function hasMedicalDataConsent(_db: DbOrTx, _userId: number): Promise<boolean> {
  return Promise.resolve(false);
}
