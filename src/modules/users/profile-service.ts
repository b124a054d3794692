import type { Db } from '../../db/client.js';
import type { OnDataChange } from '../../lib/changes.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { notFound } from '../../lib/errors.js';
import { readEvents, recordAudits, recordReads } from '../audit/index.js';
import type { DataKeyStore } from '../keys/index.js';
import { createUserDirectory } from './directory-repo.js';
import { accepted, type Checked } from './input.js';
import type { ProfileInputValues } from './profile-fields.js';
import { writeProfile } from './profile-writer.js';
import { userScope } from './policy.js';
import { createUserRepo, type ProfileRow } from './repo.js';
import { profileReadItem } from './read-audit.js';
import { profileResponse } from './serialize.js';

export interface ProfileServiceDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  fmt: (d: Date) => string;
  now: () => Date;
  /** After a commit, before the answer: what changed (docs/operations.md#caches). */
  changed: OnDataChange;
}

/**
 * `GET/PUT/PATCH users/<user id>/profile/` (docs/contract.md#users; docs/contract.md#original-differences
 * items 21 and 24): keyed by the USER id; candidates reach only their own, staff anyone's. PUT and
 * PATCH are both partial.
 */
export function createProfileService(deps: ProfileServiceDeps) {
  const { db, cipher, dataKeys, fmt } = deps;

  /** The owner (scoped in SQL for candidates) and their profile, or 404. */
  async function visibleProfile(actor: Actor, userId: number) {
    const owner = await createUserDirectory(db).findVisible(userId, userScope(actor));
    const row = owner ? await createUserRepo(db).findProfile(owner.id) : undefined;
    if (!owner || !row) throw notFound();
    return row;
  }

  const respond = async (row: ProfileRow) =>
    profileResponse(cipher, (await dataKeys.find(db, row.userId)) ?? undefined, row, fmt);

  return {
    async get(actor: Actor, meta: RequestMeta, userId: number) {
      const row = await visibleProfile(actor, userId);
      const out = await respond(row);
      await recordReads(db, actor, meta, 'profile', [profileReadItem(row.id, row.userId)]);
      return out;
    },

    async update(actor: Actor, meta: RequestMeta, userId: number, parsed: Checked<ProfileInputValues>) {
      await visibleProfile(actor, userId);
      const values = accepted(parsed);
      const row = await db.transaction(async (tx) => {
        const written = await writeProfile(tx, deps, userId, values);
        // PRIVACY: field names only; profile values are sensitive and never enter the audit log.
        // The response shows the whole profile: staff editing someone else's also read it.
        await recordAudits(tx, { actor, meta }, [
          ...readEvents(actor, 'profile', [profileReadItem(written.row.id, userId)]),
          {
            action: 'update',
            resourceType: 'profile',
            resourceId: written.row.id,
            subjectUserId: userId,
            fields: written.fields,
          },
        ]);
        return written.row;
      });
      await deps.changed([{ kind: 'account', userId }]);
      return respond(row);
    },
  };
}
export type ProfileService = ReturnType<typeof createProfileService>;
