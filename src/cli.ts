import { ConfigError, loadConfig } from './config.js';
import { coreCommands } from './cli/core-commands.js';
import type { CliCommands } from './cli/command.js';
import { createContainer, type Container } from './container.js';
import { withDevSecrets } from './lib/dev-secrets.js';
import { auditCommands } from './modules/audit/index.js';
import { authCommands } from './modules/auth/index.js';
import { importCommands } from './modules/django-import/index.js';
import { jobCommands } from './modules/jobs/index.js';
import { keyCommands } from './modules/keys/index.js';
import { privacyCommands } from './modules/privacy/index.js';

/** `npm run cli -- <command> [flags]`, or `node dist/src/cli.js` from the build (docs/operations.md#command-line). Each module brings its own commands. */
const commands: CliCommands<Container> = {
  ...coreCommands,
  ...auditCommands,
  ...authCommands,
  ...importCommands,
  ...jobCommands,
  ...keyCommands,
  ...privacyCommands,
};

async function main(): Promise<number> {
  const [name, ...args] = process.argv.slice(2);
  const asksForHelp = name === undefined || ['--help', '-h', 'help'].includes(name);
  const command = asksForHelp ? undefined : commands[name];
  if (!command) {
    process.stderr.write(
      'usage: npm run cli -- <command> [flags]  (from the build: node dist/src/cli.js <command> [flags])\n\ncommands:\n',
    );
    for (const [n, { help }] of Object.entries(commands)) process.stderr.write(`  ${n.padEnd(28)} ${help}\n`);
    return asksForHelp ? 0 : 2;
  }
  let container: Container | undefined;
  const lazy = async () => {
    container ??= await createContainer(loadConfig(withDevSecrets(process.env).env));
    return container;
  };
  try {
    const code = await command.run(args, lazy);
    // E-mails a command queued (e.g. erasure notices) are sent, or handed to the worker, before exit.
    await container?.jobs.flush();
    return code;
  } finally {
    await container?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) for (const p of err.problems) process.stderr.write(`config: ${p}\n`);
    else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
