import { parseArgs } from 'node:util';
import { type CliCommands, say } from '../../../cli/command.js';
import type { DeletionService } from '../deletion/service.js';
import type { RetentionService } from './service.js';

const fail = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 2;
};

/** A whole number flag ≥ 0, or undefined when absent; throws a usage message otherwise. */
function wholeNumber(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d{1,6}$/.test(raw.trim())) throw new Error(`--${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

/** What the retention commands use (src/cli.ts passes the services lazily). */
export interface RetentionCliServices {
  retention: RetentionService;
  deletions: DeletionService;
}

/** CLI commands of deletion and retention (docs/operations.md#command-line); all audited as `system`. */
export const retentionCommands: CliCommands<RetentionCliServices> = {
  'retention:inactive-accounts': {
    help: '[--inactive-years N] [--grace-days N] [--dry-run] [--no-warnings] [--execute]  inactive-account process',
    run: async (args, open) => {
      const { values } = parseArgs({
        args,
        options: {
          'inactive-years': { type: 'string' },
          'grace-days': { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          'no-warnings': { type: 'boolean', default: false },
          execute: { type: 'boolean', default: false },
        },
      });
      let years: number | undefined;
      let grace: number | undefined;
      try {
        years = wholeNumber('inactive-years', values['inactive-years']);
        grace = wholeNumber('grace-days', values['grace-days']);
      } catch (err) {
        return fail((err as Error).message);
      }
      if (years === 0) return fail('--inactive-years must be at least 1');
      const { retention } = await open();
      const result = await retention.runInactiveAccounts({
        inactiveYears: years,
        graceDays: grace,
        dryRun: values['dry-run'],
        sendWarnings: !values['no-warnings'],
        execute: values.execute,
      });
      if (values['dry-run']) say('dry run: nothing was changed, sent or erased');
      say(`found: ${result.found}`);
      say(`scheduled: ${result.scheduled}`);
      say(`warned: ${result.warned}`);
      say(`erased: ${result.erased}`);
      say(`overdue: ${result.overdue}`);
      if (result.cancelled) say(`cancelled (active again): ${result.cancelled}`);
      if (result.overdue > 0 && !values.execute) say('overdue accounts were not erased: run with --execute');
      return 0;
    },
  },
  'retention:exempt': {
    help: '--email E --reason R  exempt a user from erasure for inactivity',
    run: async (args, open) => {
      const { values } = parseArgs({
        args,
        options: { email: { type: 'string' }, reason: { type: 'string' } },
      });
      if (!values.email) return fail('--email is required');
      const reason = values.reason?.trim();
      if (!reason) return fail('--reason is required');
      const { retention } = await open();
      const outcome = await retention.exemptByEmail(values.email, reason);
      if (outcome === 'no_user') {
        process.stderr.write('no active account with that e-mail\n');
        return 1;
      }
      say(outcome === 'created' ? 'exempted (new exempt schedule created)' : 'exempted');
      return 0;
    },
  },
  'retention:unexempt': {
    help: '--email E  lift a user’s exemption from erasure for inactivity',
    run: async (args, open) => {
      const { values } = parseArgs({ args, options: { email: { type: 'string' } } });
      if (!values.email) return fail('--email is required');
      const { retention } = await open();
      const outcome = await retention.unexemptByEmail(values.email);
      if (outcome === 'no_user' || outcome === 'no_schedule') {
        process.stderr.write(
          outcome === 'no_user' ? 'no active account with that e-mail\n' : 'that account has no schedule\n',
        );
        return 1;
      }
      say('exemption lifted');
      return 0;
    },
  },
  'sessions:cleanup': {
    help: '[--days 7] [--dry-run]  delete sessions and reset tokens that ended more than N days ago',
    run: async (args, open) => {
      const { values } = parseArgs({
        args,
        options: { days: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
      });
      let days: number | undefined;
      try {
        days = wholeNumber('days', values.days);
      } catch (err) {
        return fail((err as Error).message);
      }
      const { retention } = await open();
      const result = await retention.cleanupSessions({ days, dryRun: values['dry-run'] });
      const verb = values['dry-run'] ? 'would delete' : 'deleted';
      say(`${verb}: ${result.sessions} sessions, ${result.reset_tokens} reset tokens`);
      return 0;
    },
  },
  'deletion:run-due': {
    help: 'erase the data of approved deletion requests whose grace period has passed',
    run: async (_args, open) => {
      const { deletions } = await open();
      const result = await deletions.runDue();
      say(`due: ${result.due}`);
      say(`erased: ${result.erased}`);
      say(`failed: ${result.failed}`);
      return result.failed > 0 ? 1 : 0;
    },
  },
};
