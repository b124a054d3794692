import { eq } from 'drizzle-orm';
import type { Container } from '../../container.js';
import type { DbOrTx } from '../../db/client.js';
import { userProfiles } from '../../db/schema.js';
import type { Actor, RequestMeta } from '../../lib/actor.js';
import { notFound } from '../../lib/errors.js';
import { readEvents, recordReads } from '../audit/reads.js';
import { recordAudits } from '../audit/recorder.js';
import { createUserDirectory } from './directory-repo.js';
import { parseBody } from './input.js';
import { ProfileInput } from './profile-fields.js';
import { writeProfile } from './profile-writer.js';
import { userScope } from './policy.js';
import type { ProfileRow } from './repo.js';
import { profileReadItem } from './read-audit.js';
import { profileResponse } from './serialize.js';

/**
 * `GET/PUT/PATCH users/<user id>/profile/` (spec domain.md §1; known bugs #21, #24): keyed by the
 * USER id; candidates reach only their own, staff anyone's. PUT and PATCH are both partial.
 */
export function createProfileService(c: Container) {
  const { db } = c;

  async function findProfile(q: DbOrTx, userId: number): Promise<ProfileRow | undefined> {
    const rows = await q.select().from(userProfiles).where(eq(userProfiles.userId, userId)).limit(1);
    return rows[0];
  }

  /** The owner (scoped in SQL for candidates) and their profile, or 404. */
  async function visibleProfile(actor: Actor, userId: number) {
    const owner = await createUserDirectory(db).findVisible(userId, userScope(actor));
    const row = owner ? await findProfile(db, owner.id) : undefined;
    if (!owner || !row) throw notFound();
    return row;
  }

  const respond = async (row: ProfileRow) =>
    profileResponse(c.cipher, (await c.dataKeys.find(db, row.userId)) ?? undefined, row, c.fmt);

  return {
    async get(actor: Actor, meta: RequestMeta, userId: number) {
      const row = await visibleProfile(actor, userId);
      const out = await respond(row);
      await recordReads(db, actor, meta, 'profile', [profileReadItem(row.id, row.userId)]);
      return out;
    },

    async update(actor: Actor, meta: RequestMeta, userId: number, body: unknown) {
      await visibleProfile(actor, userId);
      const values = parseBody(ProfileInput, body);
      const row = await db.transaction(async (tx) => {
        const written = await writeProfile(tx, c, userId, values);
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
      return respond(row);
    },
  };
}
export type ProfileService = ReturnType<typeof createProfileService>;
