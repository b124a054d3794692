import { z } from 'zod';
import { ROLES } from '../../lib/actor.js';
import { charCount } from '../../lib/escape.js';
import { type FieldErrors, validationError } from '../../lib/errors.js';
import { bool, choice, escText } from '../../lib/fields.js';

/**
 * Inputs of the users routes, parsed by the services AFTER the access checks (so a refused caller
 * learns nothing from validation). Messages are DRF's (spec domain.md preamble).
 */
const MAX_NAME = 150;

/** Trimmed and length-checked but not escaped: `auth.createAccount` escapes names itself. */
export const plainName = z.string().transform((raw, ctx) => {
  const value = raw.trim();
  if (charCount(value) > MAX_NAME) {
    ctx.addIssue({ code: 'custom', message: `Ensure this field has no more than ${MAX_NAME} characters.` });
    return z.NEVER;
  }
  return value;
});
const escName = escText(MAX_NAME, { style: 'varchar' });
const email = z.string().max(1000).trim().min(1);
const role = choice(ROLES);

/** `POST users/`. */
export const CreateUserInput = z.object({
  email,
  first_name: plainName.optional(),
  last_name: plainName.optional(),
  role: role.optional(),
  password: z.string().max(1000).optional(),
});
export type CreateUserValues = z.output<typeof CreateUserInput>;

/** `PATCH users/<id>/` (PUT additionally requires `email`); other keys are ignored. */
export const PatchUserInput = z.object({
  email: email.optional(),
  first_name: escName.optional(),
  last_name: escName.optional(),
  role: role.optional(),
});
export const PutUserInput = PatchUserInput.extend({ email });
export type UpdateUserValues = z.output<typeof PatchUserInput>;

const blankAsAbsent = (v: unknown) => (v === '' ? undefined : v);

/** `GET users/` filters (additions); `page`/`page_size` are read by the paginator. */
export const UserListQuery = z.looseObject({
  role: z.preprocess(blankAsAbsent, role.optional()),
  is_active: z.preprocess(blankAsAbsent, bool().optional()),
  search: z.string().max(254).optional(),
  id_number: z.string().max(64).optional(),
  page: z.unknown().optional(),
  page_size: z.unknown().optional(),
});
export type UserListFilters = z.output<typeof UserListQuery>;

/** Field errors `{field: [messages]}` from a failed parse. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path[0];
    const field = typeof key === 'string' ? key : 'non_field_errors';
    const list = (errors[field] ??= []);
    if (!list.includes(issue.message)) list.push(issue.message);
  }
  return errors;
}

/** Parses a body with the schema or throws the 400 `Validation error` envelope. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body ?? {});
  if (!result.success) throw validationError(fieldErrors(result.error));
  return result.data;
}
