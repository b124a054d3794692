import { isIP } from 'node:net';
import { z } from 'zod';
import { choice, integer } from '../../../lib/fields.js';
import {
  CONSENT_ACTIONS,
  CONSENT_TYPES,
  type ConsentEventResponse,
  type ConsentResponse,
  type ConsentStatusResponse,
  type GrantInput,
} from './types.js';

/**
 * Request and response shapes of consents (docs/privacy.md#consents); the service's plain types
 * are in types.ts, kept in step by `satisfies`.
 */

/** DRF's IPAddressField (protocol "both"); null or blank is allowed, as the model's field. */
const ipAddress = () =>
  z.unknown().transform((v, ctx) => {
    if (v === null || v === '') return null;
    if (typeof v === 'string' && isIP(v.trim()) !== 0) return v.trim();
    ctx.addIssue({ code: 'custom', message: 'Enter a valid IPv4 or IPv6 address.' });
    return z.NEVER;
  });

const orEmpty = (v: unknown) => v ?? {};

/**
 * `POST consents/grant/`. `ip_address` and `user_agent` are validated as the original did but
 * never stored: the request's own address and User-Agent are (docs/privacy.md#consents).
 */
export const GrantBody = z.preprocess(
  orEmpty,
  z.object({
    consent_type: choice(CONSENT_TYPES),
    privacy_policy_version_id: integer(),
    ip_address: ipAddress().optional(),
    user_agent: z.string().nullable().optional(),
  }),
) satisfies z.ZodType<GrantInput>;

/** The consent object; key order is the contract's (IP and User-Agent are stored, not returned). */
export const ConsentSchema = z.object({
  id: z.number().int(),
  consent_type: z.enum(CONSENT_TYPES),
  consent_type_display: z.string(),
  privacy_policy_version: z.number().int(),
  privacy_policy_version_number: z.string(),
  granted: z.boolean(),
  granted_at: z.string(),
  withdrawn_at: z.string().nullable(),
}) satisfies z.ZodType<ConsentResponse>;

export const ConsentPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(ConsentSchema),
});

/** One consent decision of the append-only history (addition). */
export const ConsentEventSchema = z.object({
  id: z.number().int(),
  consent_type: z.enum(CONSENT_TYPES),
  action: z.enum(CONSENT_ACTIONS),
  privacy_policy_version: z.number().int(),
  privacy_policy_version_number: z.string(),
  at: z.string(),
}) satisfies z.ZodType<ConsentEventResponse>;

export const ConsentEventPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(ConsentEventSchema),
});

/** `GET consents/status/` (addition): what the client must ask for again. */
export const ConsentStatusSchema = z.object({
  policy_version: z.string().nullable(),
  consent_required: z.array(z.enum(CONSENT_TYPES)),
}) satisfies z.ZodType<ConsentStatusResponse>;
