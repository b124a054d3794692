import type { Container } from '../container.js';

/** A CLI command: `run(args, container)` returns the exit code. The container is opened lazily. */
export interface CliCommand {
  help: string;
  run: (args: string[], container: () => Promise<Container>) => Promise<number>;
}
export type CliCommands = Record<string, CliCommand>;

/** Writes a line to stdout (commands print results, never sensitive values). */
export const say = (line: string) => {
  process.stdout.write(`${line}\n`);
};
