import { z } from 'zod';
import { ROLES } from '../../lib/actor.js';
import { asText, missingCredentials } from '../../lib/credentials.js';
import { charCount } from '../../lib/escape.js';
import { type FieldErrors, validationError } from '../../lib/errors.js';
import { bool, choice, escText } from '../../lib/fields.js';
import { ProfileInput, type ProfileInputValues } from './profile-fields.js';

/**
 * Inputs of the users routes, parsed by the routes and handed to the services typed. Messages are
 * DRF's (docs/contract.md#validation-messages). Where the contract puts the access checks first (a
 * refused caller learns nothing from validation, docs/contract.md#users), the route parses into a
 * `Checked` value and the service reports its errors only after those checks.
 */
const MAX_NAME = 150;

/** Trimmed and length-checked but not escaped: the account creator (accounts.ts) escapes names itself. */
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

/** A body parsed at the route whose errors the service reports after its access checks. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors };

function check<S extends z.ZodType>(schema: S, body: unknown): Checked<z.output<S>> {
  const result = schema.safeParse(body ?? {});
  return result.success ? { ok: true, value: result.data } : { ok: false, errors: fieldErrors(result.error) };
}

/** The parsed value, or the 400 `Validation error` envelope of its errors. */
export function accepted<T>(checked: Checked<T>): T {
  if (!checked.ok) throw validationError(checked.errors);
  return checked.value;
}

/** `POST users/`: nothing is checked before the body, so it is refused at once. */
export const parseNewUser = (body: unknown): CreateUserValues => parseBody(CreateUserInput, body);

/** `PUT/PATCH users/<id>/` and `users/me/` (PUT requires `email`). */
export const checkUserUpdate = (body: unknown, full: boolean): Checked<UpdateUserValues> =>
  check(full ? PutUserInput : PatchUserInput, body);

/** `PUT/PATCH users/<id>/profile/` (both partial; null clears a field). */
export const checkProfileUpdate = (body: unknown): Checked<ProfileInputValues> => check(ProfileInput, body);

/**
 * The account-creation routes (`users/create-admin/`, …, docs/contract.md#users): missing e-mail or
 * password is refused at once; name errors wait until the e-mail has been checked (taken, then
 * domain), as the original answers them in that order.
 */
export interface NewAccountInput {
  /** As given (the service normalises it). */
  email: string;
  password: string;
  /** `""` when absent or invalid. */
  firstName: string;
  lastName: string;
  /** `first_name` / `last_name` messages, reported after the e-mail's. */
  nameErrors: FieldErrors;
}

export function parseNewAccount(raw: unknown): NewAccountInput {
  const body = (raw ?? {}) as Record<string, unknown>;
  const email = asText(body.email);
  const password = asText(body.password);
  const missing = missingCredentials(email, password);
  if (missing) throw validationError(missing, 'Email and password are required');
  const names = plainName.optional().default('');
  const first = names.safeParse(body.first_name ?? undefined);
  const last = names.safeParse(body.last_name ?? undefined);
  const nameErrors: FieldErrors = {};
  if (!first.success) nameErrors.first_name = Object.values(fieldErrors(first.error)).flat();
  if (!last.success) nameErrors.last_name = Object.values(fieldErrors(last.error)).flat();
  return { email, password, firstName: first.data ?? '', lastName: last.data ?? '', nameErrors };
}
