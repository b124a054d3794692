import { z } from 'zod';
import { PROFILE_FIELDS } from '../../db/schema.js';

/** Response shapes of the user object U and profile P (docs/contract.md#users), keys in its order. */
type ProfileShape = Record<(typeof PROFILE_FIELDS)[number], z.ZodNullable<z.ZodString>> & {
  created_at: z.ZodString;
  updated_at: z.ZodString;
};
export const ProfileSchema = z.object({
  ...(Object.fromEntries(PROFILE_FIELDS.map((f) => [f, z.string().nullable()])) as Record<
    (typeof PROFILE_FIELDS)[number],
    z.ZodNullable<z.ZodString>
  >),
  created_at: z.string(),
  updated_at: z.string(),
} satisfies ProfileShape);

export const UserSchema = z.object({
  id: z.number().int(),
  email: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  role: z.enum(['candidate', 'admin', 'superuser']),
  has_completed_intake: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
  profile: ProfileSchema.nullable(),
});

export const UserPageSchema = z.object({
  count: z.number().int(),
  next: z.string().nullable(),
  previous: z.string().nullable(),
  results: z.array(UserSchema),
});

/** `{"message", "user": {...}}` of the create-admin/-candidate/-superuser routes. */
export const CreatedAccountSchema = z.object({
  message: z.string(),
  user: z.object({
    id: z.number().int(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    role: z.enum(['candidate', 'admin', 'superuser']),
  }),
});

export const ActivationSchema = z.object({ status: z.enum(['activated', 'deactivated']) });
