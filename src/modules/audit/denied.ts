import type { DbOrTx } from '../../db/client.js';
import {
  adminNotes,
  dataDeletionRequests,
  dataExportRequests,
  intakeSubmissions,
  journalEntries,
  userConsents,
  userProfiles,
  users,
} from '../../db/schema.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { recordAudit } from './recorder.js';
import { createAuditRepo, type ObjectLookup } from './repo.js';

/**
 * Denied access to sensitive objects (docs/privacy.md#denied-access, `outcome: denied`). Owner
 * scoping answers "not yours" exactly like "does not exist" (404); on that refused path only, the
 * object the path names is looked up without the scope, and when it exists and is someone else's,
 * the attempt is recorded: actor = caller, subject = the person the object belongs to, `action` =
 * what was tried. PRIVACY: the lookup reads ids only, never a sensitive column, and never runs on a
 * success.
 */

/** The sensitive objects behind owner-scoped routes (docs/contract.md#permission-table, "own"). */
const OBJECTS = {
  journal_entry: { by: journalEntries.id, id: journalEntries.id, owner: journalEntries.userId },
  user: { by: users.id, id: users.id, owner: users.id },
  // `users/<user id>/profile/` and `intake/<user id>/` name the profile by its owner's id.
  profile: { by: userProfiles.userId, id: userProfiles.id, owner: userProfiles.userId },
  intake_submission: { by: intakeSubmissions.id, id: intakeSubmissions.id, owner: intakeSubmissions.userId },
  // A note is data about its candidate, whoever wrote it.
  admin_note: { by: adminNotes.id, id: adminNotes.id, owner: adminNotes.candidateId },
  data_export_request: {
    by: dataExportRequests.id,
    id: dataExportRequests.id,
    owner: dataExportRequests.userId,
  },
  consent: { by: userConsents.id, id: userConsents.id, owner: userConsents.userId },
  data_deletion_request: {
    by: dataDeletionRequests.id,
    id: dataDeletionRequests.id,
    owner: dataDeletionRequests.userId,
  },
} satisfies Record<string, ObjectLookup>;

export type SensitiveObject = keyof typeof OBJECTS;

/** What a route declares (`config.deniedAudit`): the kind of object its `:id` names and the attempt. */
export interface DeniedAudit {
  resourceType: SensitiveObject;
  action: string;
}

export const deniedAudit = (resourceType: SensitiveObject, action: string): DeniedAudit => ({
  resourceType,
  action,
});

/** `reason` of every denied-object entry: the object is outside the caller's scope. */
export const NOT_VISIBLE = 'not_visible';

/**
 * Records a refused attempt on the object `pathId` names, if it exists and is not the caller's
 * (nothing is recorded about an erased owner). Returns whether an entry was written. Throws when
 * the lookup or the insert fails.
 */
export async function recordDenied(
  db: DbOrTx,
  actor: Pick<Actor, 'userId' | 'role'>,
  meta: RequestMeta,
  audit: DeniedAudit,
  pathId: number,
): Promise<boolean> {
  const object = await createAuditRepo(db).findObject(OBJECTS[audit.resourceType], pathId);
  if (!object || object.owner === actor.userId) return false;
  await recordAudit(
    db,
    { actor, meta },
    {
      action: audit.action,
      resourceType: audit.resourceType,
      resourceId: object.id,
      subjectUserId: object.owner,
      outcome: 'denied',
      reason: NOT_VISIBLE,
    },
  );
  return true;
}
