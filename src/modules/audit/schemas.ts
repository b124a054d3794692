import { z } from 'zod';
import { bool, choice, isoDate } from '../../lib/fields.js';
import type { AccessLogItem, AuditEntry } from './types.js';

/**
 * Query and response shapes of the audit routes (docs/privacy.md#access-log, #audit-log-search).
 * The service's plain types live in types.ts; `satisfies` keeps the two in step.
 */

// Query values: the last of a repeated parameter counts (as Django's QueryDict); blank = absent.
const lastValue = (v: unknown): unknown => (Array.isArray(v) ? (v.at(-1) as unknown) : v);
const param = (v: unknown): unknown => {
  const value = lastValue(v);
  return value === '' ? undefined : value;
};

/** A user id filter: a positive integer. */
const userId = () =>
  z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim()) && Number(v) > 0) return Number(v);
    ctx.addIssue({ code: 'custom', message: 'A valid integer is required.' });
    return z.NEVER;
  });

const text = (max: number) =>
  z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && v.trim().length <= max) return v.trim();
    ctx.addIssue({
      code: 'custom',
      message: `Ensure this field has no more than ${String(max)} characters.`,
    });
    return z.NEVER;
  });

const paging = { page: z.unknown().optional(), page_size: z.unknown().optional() };

export const AccessLogQuery = z.looseObject({
  include_self: z.preprocess(param, bool().optional()),
  ...paging,
});

export const AuditLogQuery = z.looseObject({
  actor: z.preprocess(param, userId().optional()),
  subject: z.preprocess(param, userId().optional()),
  action: z.preprocess(param, text(64).optional()),
  resource_type: z.preprocess(param, text(64).optional()),
  outcome: z.preprocess(param, choice(['success', 'denied', 'failure']).optional()),
  date_from: z.preprocess(param, isoDate().optional()),
  date_to: z.preprocess(param, isoDate().optional()),
  ...paging,
});

const page = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int(),
    next: z.string().nullable(),
    previous: z.string().nullable(),
    results: z.array(item),
  });

/** "Who accessed my data": no IP, user agent or request id of the actor. */
export const AccessLogItemSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z
    .object({
      id: z.number().int(),
      role: z.string().nullable(),
      name: z.string().nullable(),
    })
    .nullable(),
  action: z.string(),
  resource_type: z.string(),
  resource_id: z.string().nullable(),
  fields: z.array(z.string()).nullable(),
}) satisfies z.ZodType<AccessLogItem>;
export const AccessLogPageSchema = page(AccessLogItemSchema);

/**
 * A full entry, for superusers: everything stored, including its place in the hash chain (`seq` and
 * `hash` null until the sealer chains it, docs/privacy.md#append-only-chain).
 */
export const AuditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor_id: z.number().int().nullable(),
  actor_role: z.string().nullable(),
  ip: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
  action: z.string(),
  resource_type: z.string(),
  resource_id: z.string().nullable(),
  subject_user_id: z.number().int().nullable(),
  fields: z.array(z.string()).nullable(),
  changes: z.record(z.string(), z.array(z.unknown())).nullable(),
  outcome: z.string(),
  reason: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  seq: z.number().int().nullable(),
  hash: z.string().nullable(),
}) satisfies z.ZodType<AuditEntry>;
export const AuditEntryPageSchema = page(AuditEntrySchema);

/** `POST popia/audit-log/verify/`: the chain's state, as `audit:verify` prints it. */
export const ChainStateSchema = z.object({
  ok: z.boolean(),
  checked: z.number(),
  first_broken: z
    .object({ seq: z.number().nullable(), id: z.number().nullable(), problem: z.string() })
    .nullable(),
  checkpoint: z.object({ seq: z.number() }).nullable(),
  unsealed: z.object({ count: z.number(), oldest_age_seconds: z.number().nullable() }),
});
