/**
 * Whether the user has granted the `medical_data` consent (spec domain.md §2, privacy.md §2): the
 * consent lookup lives with the consents (src/modules/privacy/consent-service.ts).
 */
export { hasMedicalDataConsent } from '../privacy/consent-service.js';
