import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type CliCommands, say } from '../../../cli/command.js';
import { ApiError } from '../../../lib/errors.js';
import { installValidationMessages } from '../../../lib/validation.js';
import type { AuditContext } from '../../audit/index.js';
import { PolicyVersionBody } from './schemas.js';
import type { PolicyService } from './service.js';

/** Commands run by the operator are audited as the system (actor null). */
const SYSTEM: AuditContext = { actor: null, meta: null };

const fail = (line: string, code = 1) => {
  process.stderr.write(`${line}\n`);
  return code;
};

/** Prints an ApiError's field errors the way the API would have answered them. */
function report(err: unknown): number {
  if (!(err instanceof ApiError)) throw err;
  if (err.errors) for (const [field, msgs] of Object.entries(err.errors)) fail(`${field}: ${msgs.join(' ')}`);
  else fail(err.detail);
  return 1;
}

/** CLI commands of privacy policy versions (docs/operations.md#command-line). */
export const policyCommands: CliCommands<{ policies: PolicyService }> = {
  'policy:create': {
    help: '--version V --title T --file path.md --effective-date YYYY-MM-DD [--activate]  publish a policy version',
    run: async (args, open) => {
      const { values } = parseArgs({
        args,
        options: {
          version: { type: 'string' },
          title: { type: 'string' },
          file: { type: 'string' },
          'effective-date': { type: 'string' },
          activate: { type: 'boolean', default: false },
        },
      });
      if (!values.file) return fail('--file is required', 2);
      let content: string;
      try {
        content = await readFile(values.file, 'utf8');
      } catch {
        return fail(`cannot read ${values.file}`, 2);
      }
      installValidationMessages();
      const parsed = PolicyVersionBody.safeParse({
        version: values.version,
        title: values.title,
        content,
        effective_date: values['effective-date'],
        is_active: values.activate,
      });
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          const flag = String(issue.path[0] ?? '').replace('_', '-');
          fail(`--${flag === 'content' ? 'file' : flag}: ${issue.message}`);
        }
        return 2;
      }
      const { policies } = await open();
      try {
        const created = await policies.create(SYSTEM, parsed.data);
        say(
          `created privacy policy version ${created.version} (id ${String(created.id)}, effective ${created.effective_date})${created.is_active ? ', active' : ''}`,
        );
        return 0;
      } catch (err) {
        return report(err);
      }
    },
  },
  'policy:activate': {
    help: '--version V  make this policy version the active one',
    run: async (args, open) => {
      const { values } = parseArgs({ args, options: { version: { type: 'string' } } });
      if (!values.version) return fail('--version is required', 2);
      const { policies: svc } = await open();
      const id = await svc.idOf(values.version);
      if (id === undefined) return fail(`no privacy policy version ${values.version}`);
      try {
        const active = await svc.activate(SYSTEM, id);
        say(`privacy policy version ${active.version} is active`);
        return 0;
      } catch (err) {
        return report(err);
      }
    },
  },
};
