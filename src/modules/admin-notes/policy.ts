import { type Actor, isStaff } from '../../lib/actor.js';
import { forbidden } from '../../lib/errors.js';

/**
 * Who may do what with admin notes (docs/contract.md#permission-table, docs/contract.md#original-differences item 22, #30): staff (admin ⊆ superuser)
 * read and write every note; a candidate only reads notes about themselves and never writes.
 */
export const canSeeAllNotes = (actor: Pick<Actor, 'role'>): boolean => isStaff(actor.role);

/** The candidate id a query is limited to, or undefined when the actor may see every note. */
export const noteSubjectScope = (actor: Pick<Actor, 'userId' | 'role'>): number | undefined =>
  canSeeAllNotes(actor) ? undefined : actor.userId;

/** Checked before the body is validated (original: after, bug #30). */
export function assertMayCreateNote(actor: Pick<Actor, 'role'>): void {
  if (!isStaff(actor.role)) throw forbidden('Only admins can create notes.');
}

/**
 * A candidate changing a note: 403 when the note is about them (they can see it), otherwise the
 * caller must answer 404 exactly as for a missing note (the note's existence is not revealed).
 */
export function assertMayModifyVisibleNote(actor: Pick<Actor, 'role'>): void {
  if (!isStaff(actor.role)) throw forbidden('Candidates cannot modify admin notes.');
}
