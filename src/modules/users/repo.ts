import { and, asc, count, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { onlyRow } from '../../db/errors.js';
import type { DbOrTx } from '../../db/client.js';
import { userProfiles, users } from '../../db/schema.js';

export type UserRow = typeof users.$inferSelect;
export type ProfileRow = typeof userProfiles.$inferSelect;
/** The user columns the user object shows (docs/contract.md#users): never hashes or 2FA secrets. */
const PRESENTED = {
  id: users.id,
  email: users.email,
  firstName: users.firstName,
  lastName: users.lastName,
  role: users.role,
  hasCompletedIntake: users.hasCompletedIntake,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};
export type PresentedUser = Pick<UserRow, keyof typeof PRESENTED>;
export type UserWithProfile = PresentedUser & { profile: ProfileRow | null };

/** Queries on users and their profiles. Returns rows, never response objects. */
export function createUserRepo(db: DbOrTx) {
  return {
    async findByEmail(email: string): Promise<UserRow | undefined> {
      const rows = await db
        .select()
        .from(users)
        .where(sql`lower(${users.email}) = ${email.toLowerCase()}`)
        .limit(1);
      return rows[0];
    },
    async findById(id: number): Promise<UserRow | undefined> {
      const rows = await db.select().from(users).where(eq(users.id, id)).limit(1);
      return rows[0];
    },
    async findWithProfile(id: number): Promise<UserWithProfile | undefined> {
      const rows = await db
        .select({ user: PRESENTED, profile: userProfiles })
        .from(users)
        .leftJoin(userProfiles, eq(userProfiles.userId, users.id))
        .where(eq(users.id, id))
        .limit(1);
      const row = rows[0];
      return row ? { ...row.user, profile: row.profile } : undefined;
    },
    /** One query for any number of users (no N+1). Order follows `ids`. */
    async findManyWithProfiles(ids: number[]): Promise<UserWithProfile[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .select({ user: PRESENTED, profile: userProfiles })
        .from(users)
        .leftJoin(userProfiles, eq(userProfiles.userId, users.id))
        .where(inArray(users.id, ids));
      const byId = new Map(rows.map((r) => [r.user.id, { ...r.user, profile: r.profile }]));
      return ids.flatMap((id) => byId.get(id) ?? []);
    },
    async insert(values: typeof users.$inferInsert): Promise<UserRow> {
      const rows = await db.insert(users).values(values).returning();
      const row = onlyRow(rows, 'insert');
      return row;
    },
    /** A profile without values (its sealed empty record, when given), unless the user has one. */
    async insertEmptyProfile(
      userId: number,
      at: Date,
      sealed: Partial<typeof userProfiles.$inferInsert> = {},
    ): Promise<void> {
      await db
        .insert(userProfiles)
        .values({ ...sealed, userId, createdAt: at, updatedAt: at })
        .onConflictDoNothing();
    },
    /** The user's profile; `forUpdate` locks it for a read-merge-write in the caller's transaction. */
    async findProfile(userId: number, opts: { forUpdate?: boolean } = {}): Promise<ProfileRow | undefined> {
      const query = db.select().from(userProfiles).where(eq(userProfiles.userId, userId)).limit(1);
      const rows = opts.forUpdate ? await query.for('update') : await query;
      return rows[0];
    },
    /**
     * Profiles still in the per-field format (keys:reencrypt, docs/privacy.md#one-envelope-per-row).
     * A profile's record is keyed by its owner, so its "id" here is the user id.
     */
    async countUnsealedProfiles(): Promise<number> {
      const rows = await db.select({ n: count() }).from(userProfiles).where(isNull(userProfiles.sealed));
      return rows[0]?.n ?? 0;
    },
    async unsealedProfilesAfter(
      afterUserId: number,
      limit: number,
    ): Promise<{ id: number; ownerId: number }[]> {
      return db
        .select({ id: userProfiles.userId, ownerId: userProfiles.userId })
        .from(userProfiles)
        .where(and(isNull(userProfiles.sealed), gt(userProfiles.userId, afterUserId)))
        .orderBy(asc(userProfiles.userId))
        .limit(limit);
    },
    /** The profiles of those users still unsealed, locked; rows a writer holds are skipped. */
    async lockUnsealedProfiles(userIds: number[]): Promise<ProfileRow[]> {
      return db
        .select()
        .from(userProfiles)
        .where(and(inArray(userProfiles.userId, userIds), isNull(userProfiles.sealed)))
        .orderBy(asc(userProfiles.userId))
        .for('update', { skipLocked: true });
    },
    /** Whether another user's profile holds this ID-number blind index. */
    async idNumberTaken(index: string, userId: number): Promise<boolean> {
      const taken = await db
        .select({ id: userProfiles.id })
        .from(userProfiles)
        .where(and(eq(userProfiles.idNumberIndex, index), ne(userProfiles.userId, userId)))
        .limit(1);
      return taken.length > 0;
    },
    /** Writes these (sealed) columns of the user's existing profile. */
    async updateProfile(
      userId: number,
      update: Partial<typeof userProfiles.$inferInsert>,
    ): Promise<ProfileRow> {
      const rows = await db
        .update(userProfiles)
        .set(update)
        .where(eq(userProfiles.userId, userId))
        .returning();
      return onlyRow(rows, 'profile update');
    },
    async update(id: number, values: Partial<typeof users.$inferInsert>): Promise<UserRow | undefined> {
      const rows = await db.update(users).set(values).where(eq(users.id, id)).returning();
      return rows[0];
    },
    /**
     * Locks the user row before any of the user's sessions or tokens. Every change of a user that also
     * touches their sessions (role, status, password, erasure) updates the user row first, so a
     * transaction that starts from a session (a token refresh) must take this lock first too, or the
     * two deadlock.
     */
    async lockForSessionChange(id: number): Promise<void> {
      await db.select({ id: users.id }).from(users).where(eq(users.id, id)).for('no key update');
    },
    /** Replaces the password hash only if it is still the one verified (a login's re-hash must not undo a change). */
    async replacePasswordHash(id: number, verified: string, replacement: string): Promise<boolean> {
      const rows = await db
        .update(users)
        .set({ password: replacement })
        .where(and(eq(users.id, id), eq(users.password, verified)))
        .returning({ id: users.id });
      return rows.length > 0;
    },
    async countSuperusers(): Promise<number> {
      const rows = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(users)
        .where(sql`${users.role} = 'superuser' and ${users.isActive}`);
      return rows[0]?.n ?? 0;
    },
  };
}
export type UserRepo = ReturnType<typeof createUserRepo>;
