import { z } from 'zod';
import { bool } from '../../../lib/fields.js';
import { looseBody } from '../../../lib/validation.js';

/** The session object of docs/auth.md#sessions; key order is the contract's. */
export const SessionSchema = z.object({
  id: z.number(),
  session_key: z.string(),
  device_type: z.string(),
  browser: z.string(),
  os: z.string(),
  user_agent: z.string(),
  ip_address: z.string().nullable(),
  country: z.string(),
  city: z.string(),
  created_at: z.string(),
  last_activity: z.string(),
  expires_at: z.string(),
  is_active: z.boolean(),
  is_expired: z.boolean(),
  is_suspicious: z.boolean(),
  is_current: z.boolean(),
  time_since_activity: z.string(),
});

/** `GET admin/sessions/` filters. */
export const AdminSessionsQuerySchema = z.object({
  user_email: z.string().max(254).optional(),
  active_only: bool().optional(),
  suspicious_only: bool().optional(),
});

/** `POST admin/force-logout/`: the service checks the fields in the contract's order. */
export const ForceLogoutBody = looseBody({
  user_id: z.union([z.number(), z.string().max(20)]).optional(),
  reason: z.string().max(2000).optional(),
});
