/**
 * A CLI command that needs `S` (the services it uses): `run(args, open)` returns the exit code;
 * `open()` builds them lazily (src/cli.ts opens the composition root only for commands that call it).
 * Free of the container, so a module's commands name only what they use.
 */
export interface CliCommand<S> {
  help: string;
  run: (args: string[], open: () => Promise<S>) => Promise<number>;
}
export type CliCommands<S> = Record<string, CliCommand<S>>;

/** Writes a line to stdout (commands print results, never sensitive values). */
export const say = (line: string) => {
  process.stdout.write(`${line}\n`);
};
