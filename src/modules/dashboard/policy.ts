import { type Actor, isStaff } from '../../lib/actor.js';
import { forbidden } from '../../lib/errors.js';

/**
 * Dashboard access (docs/contract.md#permission-table, docs/contract.md#original-differences item 22): admin-stats for staff (superuser ⊇ admin),
 * candidate-stats for candidates only; refusals carry the original's detail "Forbidden".
 */
export function assertMayReadAdminStats(actor: Pick<Actor, 'role'>): void {
  if (!isStaff(actor.role)) throw forbidden('Forbidden');
}

export function assertMayReadCandidateStats(actor: Pick<Actor, 'role'>): void {
  if (actor.role !== 'candidate') throw forbidden('Forbidden');
}
