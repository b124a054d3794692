import type { Config } from '../../config.js';
import type { Db, DbOrTx } from '../../db/client.js';
import type { OnDataChange } from '../../lib/changes.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { checkEmail } from '../../lib/email.js';
import { type FieldErrors, forbidden, notFound, validationError } from '../../lib/errors.js';
import { paginate, type PageLink } from '../../lib/paging.js';
import {
  type AuditEvent,
  diffPlain,
  readEvents,
  recordAudit,
  recordAudits,
  recordReads,
} from '../audit/index.js';
import { assertLiveSubject } from '../keys/index.js';
import type { SessionService } from '../sessions/index.js';
import { createUserDirectory, type UserListFilter } from './directory-repo.js';
import { accepted, type Checked, type UpdateUserValues, type UserListFilters } from './input.js';
import { canChangeRole, canModifyUser, demotesSuperuser, userScope } from './policy.js';
import type { UserReader } from './reader.js';
import { createUserRepo } from './repo.js';
import type { UserResponse } from './serialize.js';
import { userReadItem } from './read-audit.js';

const ROLE_CHANGE_DENIED = 'You do not have permission to change roles.';
const LAST_SUPERUSER = 'Cannot remove the last active superuser.';
const AUDITED_FIELDS = ['email', 'first_name', 'last_name', 'role'] as const;

export interface UsersServiceDeps {
  db: Db;
  users: UserReader;
  /** The blind index of an ID number (`?id_number=`). */
  cipher: Pick<FieldCipher, 'blindIndex'>;
  sessions: SessionService;
  config: Pick<Config, 'allowedEmailDomains'>;
  now: () => Date;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

/** Listing, reading and editing user accounts (docs/contract.md#users). */
export function createUsersService(deps: UsersServiceDeps) {
  const { db, users, cipher, sessions, config, now, changed } = deps;

  const present = async (userId: number, conn: DbOrTx = db): Promise<UserResponse> => {
    const user = conn === db ? await users.current(db, userId) : await users.one(conn, userId);
    if (!user) throw notFound();
    return user;
  };

  /** PRIVACY: a U object of someone else is a read of their data (docs/privacy.md#read-audit). */
  const presentAudited = async (actor: Actor, meta: RequestMeta, userId: number, conn: DbOrTx = db) => {
    const user = await present(userId, conn);
    await recordReads(conn, actor, meta, 'user', [userReadItem(user)]);
    return user;
  };

  const page = (link: PageLink, query: unknown, filter: UserListFilter) => {
    const directory = createUserDirectory(db);
    return paginate(
      link,
      query,
      (limit, offset) => directory.pageIds(filter, limit, offset),
      () => directory.count(filter),
      (ids) => users.many(db, ids),
    );
  };

  return {
    /** `GET users/` (staff). `?id_number=` is matched through the blind index and audited. */
    async list(link: PageLink, actor: Actor, meta: RequestMeta, q: UserListFilters) {
      const filter: UserListFilter = {
        ...(q.role ? { role: q.role } : {}),
        ...(q.is_active !== undefined ? { isActive: q.is_active } : {}),
        ...(q.search?.trim() ? { search: q.search } : {}),
      };
      const idNumber = q.id_number?.replace(/\s+/g, '');
      if (idNumber) filter.idNumberIndex = cipher.blindIndex(idNumber);
      const result = await page(link, q, filter);
      // PRIVACY: one read per other user on the page, and the lookup by ID number (a read of
      // sensitive data; the value itself is not logged), in one statement.
      const events: AuditEvent[] = readEvents(actor, 'user', result.results.map(userReadItem), 'user_ids');
      if (idNumber) {
        events.push({
          action: 'read',
          resourceType: 'user',
          metadata: { search: 'id_number', matches: result.count },
        });
      }
      await recordAudits(db, { actor, meta }, events);
      return result;
    },

    /** `GET users/candidates/` (staff): every candidate, active or not. */
    async candidates(link: PageLink, actor: Actor, meta: RequestMeta, query: unknown) {
      const result = await page(link, query, { role: 'candidate' });
      await recordReads(db, actor, meta, 'user', result.results.map(userReadItem), 'user_ids');
      return result;
    },

    /** `GET users/<id>/`: candidates only themselves (others 404), staff anyone. */
    async get(actor: Actor, meta: RequestMeta, id: number): Promise<UserResponse> {
      const user = await createUserDirectory(db).findVisible(id, userScope(actor));
      if (!user) throw notFound();
      return presentAudited(actor, meta, user.id);
    },

    me: (actor: Actor) => present(actor.userId),

    /** `PUT/PATCH users/<id>/`: e-mail, names, role; other keys are ignored. */
    async update(actor: Actor, meta: RequestMeta, id: number, parsed: Checked<UpdateUserValues>) {
      const target = await createUserDirectory(db).findVisible(id, userScope(actor));
      // PRIVACY: an erased person's anonymised row is never written again (checked again under lock).
      if (!target || target.anonymizedAt) throw notFound();
      if (!canModifyUser(actor, target)) throw forbidden();
      const input = accepted(parsed);
      const roleChange = input.role !== undefined && input.role !== target.role ? input.role : undefined;
      if (roleChange && !canChangeRole(actor)) throw forbidden(ROLE_CHANGE_DENIED);

      const errors: FieldErrors = {};
      let email: string | undefined;
      if (input.email !== undefined && input.email.toLowerCase() !== target.email) {
        const checked = checkEmail(input.email, config.allowedEmailDomains);
        if (!checked.ok) errors.email = [checked.message];
        else if (await createUserRepo(db).findByEmail(checked.value)) {
          errors.email = ['user with this email already exists.'];
        } else email = checked.value;
      }
      if (Object.keys(errors).length) throw validationError(errors);

      const values = {
        ...(email !== undefined ? { email } : {}),
        ...(input.first_name !== undefined ? { firstName: input.first_name } : {}),
        ...(input.last_name !== undefined ? { lastName: input.last_name } : {}),
        ...(roleChange ? { role: roleChange } : {}),
      };
      // One transaction: the change, its audit, the sessions it ends and the read of the answer.
      const answer = await sessions.transaction(async (tx, sessionChanges) => {
        // The superusers' rows first (as every demotion locks them), then the target's.
        if (roleChange && demotesSuperuser(target, roleChange)) {
          const active = await createUserDirectory(tx).lockActiveSuperusers();
          if (active.filter((uid) => uid !== target.id).length === 0) {
            throw validationError({ role: [LAST_SUPERUSER] });
          }
        }
        await assertLiveSubject(tx, target.id);
        const after = await createUserRepo(tx).update(target.id, { ...values, updatedAt: now() });
        if (!after) throw notFound();
        const plain = (u: typeof target) => ({
          email: u.email,
          first_name: u.firstName,
          last_name: u.lastName,
          role: u.role as string,
        });
        const ctx = { actor, meta };
        const written = AUDITED_FIELDS.filter((f) => input[f] !== undefined);
        await recordAudit(tx, ctx, {
          action: 'update',
          resourceType: 'user',
          resourceId: target.id,
          subjectUserId: target.id,
          fields: written,
          changes: diffPlain(plain(target), plain(after), AUDITED_FIELDS),
        });
        if (roleChange) {
          // SECURITY: a new role starts with a new sign-in: a promoted user must pass (or set up)
          // 2FA before acting as staff, and no old token or refresh token carries the change.
          const ended = await sessionChanges.end({ userId: target.id }, 'role_changed');
          await recordAudits(tx, ctx, [
            {
              action: 'role_changed',
              resourceType: 'user',
              resourceId: target.id,
              subjectUserId: target.id,
              changes: { role: [target.role, roleChange] },
              metadata: { sessions_terminated: ended.length },
            },
            {
              action: 'session_revoked',
              resourceType: 'session',
              subjectUserId: target.id,
              reason: 'role_changed',
              metadata: { count: ended.length },
            },
          ]);
        }
        return presentAudited(actor, meta, target.id, tx);
      });
      await changed([{ kind: 'account', userId: target.id }]);
      return answer;
    },
  };
}
export type UsersService = ReturnType<typeof createUsersService>;
