import { type Actor, isStaff, type Role } from '../../lib/actor.js';

/**
 * Who may do what with user accounts (docs/contract.md#roles-and-permissions,
 * docs/contract.md#users; docs/contract.md#original-differences items 18–23).
 * Pure functions over the actor and the target; the services turn refusals into 403/404.
 * Superuser ⊇ admin everywhere (item 22).
 */
type Who = Pick<Actor, 'userId' | 'role'>;
interface Target {
  id: number;
  role: Role;
}

export const isSuperuser = (actor: Pick<Actor, 'role'>): boolean => actor.role === 'superuser';

/** The only user id a candidate's user queries may return; undefined = staff see everyone (item 18). */
export const userScope = (actor: Who): number | undefined => (isStaff(actor.role) ? undefined : actor.userId);

/** Account fields (e-mail, names): superusers anyone, admins candidates and themselves, candidates themselves. */
export function canModifyUser(actor: Who, target: Target): boolean {
  if (actor.role === 'superuser') return true;
  if (target.id === actor.userId) return true;
  return actor.role === 'admin' && target.role === 'candidate';
}

/** Changing a role (to a different value) is for superusers only (item 20). */
export const canChangeRole = (actor: Pick<Actor, 'role'>): boolean => isSuperuser(actor);

/** `POST users/`: admins create candidates, superusers any role, candidates nothing (item 19). */
export function canCreateRole(actor: Pick<Actor, 'role'>, role: Role): boolean {
  if (actor.role === 'superuser') return true;
  return actor.role === 'admin' && role === 'candidate';
}

/** Whether a role change removes a superuser from the set of active superusers. */
export const demotesSuperuser = (target: Target & { isActive: boolean }, newRole: Role): boolean =>
  target.role === 'superuser' && target.isActive && newRole !== 'superuser';

/** activate/deactivate refuse the caller's own account (400); the message, or null when allowed. */
export function selfActivationMessage(actor: Who, targetId: number, activate: boolean): string | null {
  if (targetId !== actor.userId) return null;
  return activate ? 'You cannot activate your own account.' : 'You cannot deactivate your own account.';
}

/** Superusers cannot be deactivated (so the last one never is). */
export const canDeactivate = (target: Target): boolean => target.role !== 'superuser';
