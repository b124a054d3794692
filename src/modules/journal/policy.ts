import { type Actor, isStaff } from '../../lib/actor.js';

/**
 * Who sees which journal entries (docs/contract.md#permission-table, docs/contract.md#original-differences item 21, #22): a candidate only their own,
 * admins and superusers every entry (superuser ⊇ admin). Ownership is by the entry's owner id,
 * never by comparing the entry id with the caller's id (#21).
 */
export const canSeeAllEntries = (actor: Pick<Actor, 'role'>): boolean => isStaff(actor.role);

/** The owner id a query is limited to, or undefined when the actor may see every entry. */
export const entryOwnerScope = (actor: Pick<Actor, 'userId' | 'role'>): number | undefined =>
  canSeeAllEntries(actor) ? undefined : actor.userId;

/** `?user=` narrows the list for staff only; candidates' lists are always their own. */
export const mayFilterByUser = (actor: Pick<Actor, 'role'>): boolean => isStaff(actor.role);
