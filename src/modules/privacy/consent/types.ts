import { consentTypeEnum } from '../../../db/schema.js';

/** Plain types and values of consents (docs/privacy.md#consents). */
export const CONSENT_TYPES = consentTypeEnum.enumValues;
export type ConsentType = (typeof CONSENT_TYPES)[number];

export const CONSENT_TYPE_DISPLAY: Record<ConsentType, string> = {
  data_processing: 'General Data Processing',
  medical_data: 'Medical Data Processing',
  communications: 'Marketing Communications',
  data_sharing: 'Data Sharing with Partners',
};

export const CONSENT_ACTIONS = ['grant', 'withdraw'] as const;
export type ConsentAction = (typeof CONSENT_ACTIONS)[number];

/**
 * `POST consents/grant/` as the route parsed it. `ip_address` and `user_agent` are validated as the
 * original did but never stored: the request's own address and User-Agent are.
 */
export interface GrantInput {
  consent_type: ConsentType;
  privacy_policy_version_id: number;
  ip_address?: string | null;
  user_agent?: string | null;
}

/** The consent object; key order is the contract's (IP and User-Agent are stored, not returned). */
export interface ConsentResponse {
  id: number;
  consent_type: ConsentType;
  consent_type_display: string;
  privacy_policy_version: number;
  privacy_policy_version_number: string;
  granted: boolean;
  granted_at: string;
  withdrawn_at: string | null;
}

/** One consent decision of the append-only history (addition). */
export interface ConsentEventResponse {
  id: number;
  consent_type: ConsentType;
  action: ConsentAction;
  privacy_policy_version: number;
  privacy_policy_version_number: string;
  at: string;
}

/** `GET consents/status/` (addition): what the client must ask for again. */
export interface ConsentStatusResponse {
  policy_version: string | null;
  consent_required: ConsentType[];
}
