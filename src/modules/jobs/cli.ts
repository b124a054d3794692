import { parseArgs } from 'node:util';
import { type CliCommands, say } from '../../cli/command.js';
import type { JobRunner } from './types.js';

/** What the job commands use. */
export interface JobCliServices {
  jobs: JobRunner;
}

/** CLI commands over background jobs (docs/operations.md#command-line). */
export const jobCommands: CliCommands<JobCliServices> = {
  'jobs:failed': {
    help: '[--limit N]  list background jobs that failed after all their attempts (id, job, attempts, when, reason)',
    run: async (args, open) => {
      const { values } = parseArgs({ args, options: { limit: { type: 'string' } } });
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
        process.stderr.write(`--limit must be a whole number from 1 to 10000, got "${values.limit ?? ''}"\n`);
        return 2;
      }
      const { jobs } = await open();
      const failed = await jobs.failed(limit);
      if (failed.length === 0) say('no failed jobs');
      for (const f of failed) {
        say(`${f.id}\t${f.job}\t${String(f.attempts)} attempts\t${f.failedAt.toISOString()}\t${f.reason}`);
      }
      return 0;
    },
  },
  'jobs:retry': {
    help: '<id>  run a failed background job again (ids from jobs:failed)',
    run: async (args, open) => {
      const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
      const [id] = positionals;
      if (!id || positionals.length > 1) {
        process.stderr.write('usage: jobs:retry <id>\n');
        return 2;
      }
      const { jobs } = await open();
      if (!(await jobs.retry(id))) {
        say(`no failed job with id ${id}`);
        return 1;
      }
      say(`job ${id} will run again`);
      return 0;
    },
  },
};
