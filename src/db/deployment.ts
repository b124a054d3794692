import { asc, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { deployment } from './schema.js';

/**
 * The id this database was given by its first migration. Shared-store keys carry it, so state cached
 * in Redis for one database (session states, counters keyed by row ids that restart at 1) is never
 * read for another: a new database, or one restored from a backup after `deployment:new-id`.
 */
export async function deploymentId(db: Db): Promise<string> {
  const rows = await db
    .select({ id: deployment.id })
    .from(deployment)
    .orderBy(asc(deployment.createdAt))
    .limit(1);
  const id = rows[0]?.id;
  if (!id) throw new Error('the deployment table is empty: run the migrations');
  return id;
}

/**
 * Gives the database a new id. For a database restored from a backup: its row ids restart where the
 * backup ended, so state cached under the old id could describe other rows. Instances read the id
 * at start: restart them all afterwards.
 */
export async function renewDeploymentId(db: Db): Promise<string> {
  const rows = await db
    .update(deployment)
    .set({ id: sql`gen_random_uuid()`, createdAt: sql`now()` })
    .returning({ id: deployment.id });
  const id = rows[0]?.id;
  if (!id) throw new Error('the deployment table is empty: run the migrations');
  return id;
}
