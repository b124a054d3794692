import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import type { Container } from '../container.js';
import type { CliCommands } from './command.js';
import { databaseOptions, openDatabase } from '../db/client.js';
import { renewDeploymentId } from '../db/deployment.js';
import { runMigrations } from '../db/migrate.js';
import { withDevSecrets } from '../lib/dev-secrets.js';
import { checkPasswordPolicy } from '../lib/password/policy.js';
import { bootstrapSuperuser } from '../modules/users/index.js';

async function readPassword(fromStdin: boolean): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: fromStdin ? undefined : process.stderr,
    terminal: false,
  });
  if (!fromStdin) process.stderr.write('Password: ');
  const line = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => {
      resolve('');
    });
  });
  rl.close();
  return line.replace(/\r?\n$/, '');
}

/** Core commands: migrations and superusers (docs/operations.md#command-line). */
export const coreCommands: CliCommands<Container> = {
  'db:migrate': {
    help: 'apply pending database migrations',
    run: async () => {
      const config = loadConfig(withDevSecrets(process.env).env);
      const database = await openDatabase(databaseOptions(config, 2, { direct: true }));
      const applied = await runMigrations(database);
      await database.close();
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      return 0;
    },
  },
  'deployment:new-id': {
    help: 'give the database a new deployment id (after restoring a backup: Redis state of the old one is never read)',
    run: async () => {
      const config = loadConfig(withDevSecrets(process.env).env);
      const database = await openDatabase(databaseOptions(config, 2));
      try {
        const id = await renewDeploymentId(database.db);
        process.stdout.write(`deployment id is now ${id}; restart every instance\n`);
      } finally {
        await database.close();
      }
      return 0;
    },
  },
  'users:create-superuser': {
    help: '--email E [--first-name F] [--last-name L] [--password-stdin]  create a superuser (password prompted)',
    run: async (args, container) => {
      const { values } = parseArgs({
        args,
        options: {
          email: { type: 'string' },
          'first-name': { type: 'string', default: '' },
          'last-name': { type: 'string', default: '' },
          'password-stdin': { type: 'boolean', default: false },
        },
      });
      if (!values.email) {
        process.stderr.write('--email is required\n');
        return 2;
      }
      const password = await readPassword(values['password-stdin']);
      const problems = checkPasswordPolicy(password, {
        email: values.email,
        firstName: values['first-name'],
        lastName: values['last-name'],
      });
      if (password.length < 8 || password.length > 128)
        problems.unshift('Password must be 8 to 128 characters.');
      if (problems.length) {
        for (const p of problems) process.stderr.write(`password: ${p}\n`);
        return 1;
      }
      const c = await container();
      const outcome = await bootstrapSuperuser(c, {
        email: values.email,
        password,
        firstName: values['first-name'],
        lastName: values['last-name'],
      });
      process.stdout.write(
        outcome === 'created' ? `superuser ${values.email} created\n` : `${values.email} already exists\n`,
      );
      return outcome === 'created' ? 0 : 1;
    },
  },
  'users:bootstrap-superuser': {
    help: 'create the superuser named by DJANGO_SUPERUSER_EMAIL / _PASSWORD unless it exists',
    run: async (_args, container) => {
      const c = await container();
      const input = c.config.bootstrapSuperuser;
      if (!input) {
        process.stderr.write('DJANGO_SUPERUSER_EMAIL and DJANGO_SUPERUSER_PASSWORD are not set\n');
        return 2;
      }
      const outcome = await bootstrapSuperuser(c, input);
      process.stdout.write(`${input.email}: ${outcome}\n`);
      return 0;
    },
  },
};
