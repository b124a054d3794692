import { isStaff, type Actor } from '../../lib/actor.js';

/**
 * Who may see whose intake data (docs/contract.md#permission-table): the owner, or staff. A submission or profile
 * that is not visible answers 404 like a missing one, never 403.
 */
export const canReadIntakeOf = (actor: Pick<Actor, 'userId' | 'role'>, ownerId: number) =>
  actor.userId === ownerId || isStaff(actor.role);
