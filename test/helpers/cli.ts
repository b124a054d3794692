import { vi } from 'vitest';
import type { CliCommands } from '../../src/cli/command.js';

/**
 * Runs a CLI command in-process, as `src/cli.ts` would, with the services `open` gives: its exit code and
 * what it wrote to stdout and to stderr.
 */
export async function runCommand<S>(
  commands: CliCommands<S>,
  name: string,
  args: string[],
  open: () => Promise<S>,
): Promise<{ code: number; out: string; err: string }> {
  const command = commands[name];
  if (!command) throw new Error(`no command ${name}`);
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += String(chunk);
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += String(chunk);
    return true;
  });
  try {
    const code = await command.run(args, open);
    return { code, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}
