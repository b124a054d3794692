import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';

/**
 * A fresh, migrated database for one test file: in-memory PGlite by default; with
 * TEST_DATABASE_URL, a new PostgreSQL database created for the file and dropped afterwards.
 * `migrate: false` leaves it empty (a test that applies migrations itself).
 *
 * When TEST_DATABASE_URL goes through a transaction pooler (CI's PgBouncer run),
 * TEST_DIRECT_DATABASE_URL names the server itself: databases are created and dropped there, and
 * `directUrl` reaches the file's database past the pooler (for what a pooler cannot carry: a role's
 * connection limit, ending server connections). The service's own work, migrations included, goes
 * through `url`, the pooler.
 */
export async function freshDatabase({ migrate = true }: { migrate?: boolean } = {}): Promise<{
  database: Database;
  url: string | undefined;
  directUrl: string | undefined;
  drop: () => Promise<void>;
}> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const database = await openDatabase({ dataDir: 'memory://' });
    if (migrate) await runMigrations(database);
    return { database, url: undefined, directUrl: undefined, drop: () => database.close() };
  }
  const serverUrl = process.env.TEST_DIRECT_DATABASE_URL ?? adminUrl;
  const name = `pss_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const directUrl = new URL(serverUrl);
  directUrl.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolMax: 5 });
  if (migrate) await runMigrations(database);
  return {
    database,
    url: url.toString(),
    directUrl: directUrl.toString(),
    drop: async () => {
      await database.close();
      const again = new pg.Client({ connectionString: serverUrl });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}
