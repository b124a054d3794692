import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { OnDataChange } from '../../lib/changes.js';
import type { Actor, RequestMeta, Role } from '../../lib/actor.js';
import { passwordLengthError, policyErrors } from '../../lib/credentials.js';
import { checkEmail, normaliseEmail } from '../../lib/email.js';
import { badRequest, type FieldErrors, forbidden, notFound, validationError } from '../../lib/errors.js';
import { recordAudit } from '../audit/index.js';
import { assertLiveSubject } from '../keys/index.js';
import type { SessionService } from '../sessions/index.js';
import type { AccountCreator } from './accounts.js';
import { createUserDirectory } from './directory-repo.js';
import type { CreateUserValues, NewAccountInput } from './input.js';
import { canCreateRole, canDeactivate, selfActivationMessage } from './policy.js';
import { createUserRepo, type UserRow } from './repo.js';

/**
 * The account-creation routes of the original (docs/contract.md#users; docs/contract.md#original-differences
 * items 26 and 27).
 */
export const PRIVILEGED_CREATION = {
  admin: { role: 'admin', created: 'Admin user created successfully', failed: 'Failed to create admin user' },
  superuser: {
    role: 'superuser',
    created: 'Superuser created successfully',
    failed: 'Failed to create superuser',
  },
  candidate: {
    role: 'candidate',
    created: 'Candidate user created successfully',
    failed: 'Failed to create candidate user',
  },
} as const satisfies Record<string, { role: Role; created: string; failed: string }>;
export type PrivilegedKind = keyof typeof PRIVILEGED_CREATION;

const EMAIL_TAKEN = 'user with this email already exists.';

/** Password rules for a new account: length first, then the policy with the user's attributes. */
function passwordErrors(password: string, user: { email: string; firstName: string; lastName: string }) {
  const length = passwordLengthError(password);
  return length ? [length] : policyErrors(password, user);
}

export interface AccountServiceDeps {
  db: Db;
  createAccount: AccountCreator;
  sessions: SessionService;
  config: Pick<Config, 'allowedEmailDomains'>;
  now: () => Date;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

/** Creating accounts and switching them on and off (staff). */
export function createAccountService(deps: AccountServiceDeps) {
  const { db, createAccount, sessions, config, now, changed } = deps;

  async function insertAccount(
    actor: Actor,
    meta: RequestMeta,
    input: { email: string; password: string | null; firstName: string; lastName: string; role: Role },
  ): Promise<UserRow | null> {
    return db
      .transaction(async (tx) => {
        if (await createUserRepo(tx).findByEmail(input.email)) return null;
        const user = await createAccount(tx, input);
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: 'create',
            resourceType: 'user',
            resourceId: user.id,
            subjectUserId: user.id,
            fields: ['email', 'first_name', 'last_name', 'role', ...(input.password ? ['password'] : [])],
            metadata: { role: user.role },
          },
        );
        return user;
      })
      .then(async (user) => {
        if (user) await changed([{ kind: 'account', userId: user.id }]);
        return user;
      })
      .catch((err: unknown) => {
        if (isUniqueViolation(err)) return null;
        throw err;
      });
  }

  return {
    /** `POST users/` (staff): admins create candidates only; without a password the account is unusable. */
    async create(actor: Actor, meta: RequestMeta, input: CreateUserValues) {
      const role = input.role ?? 'candidate';
      if (!canCreateRole(actor, role)) throw forbidden();
      const firstName = input.first_name ?? '';
      const lastName = input.last_name ?? '';
      const errors: FieldErrors = {};
      const checked = checkEmail(input.email, config.allowedEmailDomains);
      if (!checked.ok) errors.email = [checked.message];
      else if (await createUserRepo(db).findByEmail(checked.value)) errors.email = [EMAIL_TAKEN];
      const email = checked.ok ? checked.value : normaliseEmail(input.email);
      if (input.password !== undefined) {
        const messages = passwordErrors(input.password, { email, firstName, lastName });
        if (messages.length) errors.password = messages;
      }
      if (Object.keys(errors).length) throw validationError(errors);
      const password = input.password ?? null;
      const user = await insertAccount(actor, meta, { email, password, firstName, lastName, role });
      if (!user) throw validationError({ email: [EMAIL_TAKEN] });
      return user.id;
    },

    /** `users/create-admin/`, `auth/create-admin/`, `auth/create-superuser/`, `users/create-candidate/`. */
    async createPrivileged(actor: Actor, meta: RequestMeta, kind: PrivilegedKind, input: NewAccountInput) {
      const spec = PRIVILEGED_CREATION[kind];
      const { password, firstName, lastName } = input;
      const email = normaliseEmail(input.email);
      const exists = () => badRequest('User with this email already exists', { email: [EMAIL_TAKEN] });
      if (await createUserRepo(db).findByEmail(email)) throw exists();

      const errors: FieldErrors = {};
      const checked = checkEmail(email, config.allowedEmailDomains);
      if (!checked.ok) errors.email = [checked.message];
      Object.assign(errors, input.nameErrors);
      const messages = passwordErrors(password, { email, firstName, lastName });
      if (messages.length) errors.password = messages;
      if (Object.keys(errors).length) throw validationError(errors, spec.failed);

      const user = await insertAccount(actor, meta, {
        email,
        password,
        firstName,
        lastName,
        role: spec.role,
      });
      if (!user) throw exists();
      return {
        message: spec.created,
        user: {
          id: user.id,
          email: user.email,
          first_name: user.firstName,
          last_name: user.lastName,
          role: user.role,
        },
      };
    },

    /** `PATCH users/<id>/activate/` and `/deactivate/`; deactivation ends every session of the target. */
    async setActive(actor: Actor, meta: RequestMeta, id: number, active: boolean) {
      const own = selfActivationMessage(actor, id, active);
      if (own) throw badRequest(own);
      await sessions.transaction(async (tx, changes) => {
        // PRIVACY: an erased person's account is never switched on or off again.
        await assertLiveSubject(tx, id);
        const target = await createUserDirectory(tx).findVisible(id, undefined);
        if (!target) throw notFound();
        if (!active && !canDeactivate(target)) throw forbidden('Superusers cannot be deactivated.');
        await createUserRepo(tx).update(id, { isActive: active, updatedAt: now() });
        await recordAudit(
          tx,
          { actor, meta },
          {
            action: active ? 'user_activated' : 'user_deactivated',
            resourceType: 'user',
            resourceId: id,
            subjectUserId: id,
            changes: { is_active: [target.isActive, active] },
          },
        );
        // Before commit: the ended sessions are refused, the others act as the user now is, everywhere.
        if (active) await changes.refreshUser(id);
        else await changes.end({ userId: id }, 'deactivated');
      });
      await changed([{ kind: 'account', userId: id }]);
      return { status: active ? ('activated' as const) : ('deactivated' as const) };
    },
  };
}
export type AccountService = ReturnType<typeof createAccountService>;
