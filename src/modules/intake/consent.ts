/**
 * Whether the user has granted the `medical_data` consent (docs/contract.md#intake,
 * docs/privacy.md#consents): the consent lookup lives with the consents
 * (src/modules/privacy/consent/service.ts).
 */
export { hasMedicalDataConsent } from '../privacy/index.js';
