import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { type CliCommands, say } from '../../cli/command.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import { formatReport } from './report.js';
import { importFromDjango, ImportRefused } from './run.js';

/** What the import command uses. */
export interface ImportCliServices {
  db: Db;
  cipher: FieldCipher;
  config: Config;
  now: () => Date;
}

const USAGE =
  'usage: import:django --source-url <postgres url of the original> [--dry-run] [--accept-rejects] [--problems-file <path>]\n' +
  "  LEGACY_FIELD_ENCRYPTION_KEY must hold the original's FIELD_ENCRYPTION_KEY (its Fernet key)\n";

/** `import:django` (docs/migrating-from-django.md). */
export const importCommands: CliCommands<ImportCliServices> = {
  'import:django': {
    help: '--source-url <url> [--dry-run] [--accept-rejects]  import a deployment of the original (its Fernet key in LEGACY_FIELD_ENCRYPTION_KEY); re-runs change nothing',
    run: async (args, open) => {
      let values: {
        'source-url'?: string;
        'dry-run'?: boolean;
        'accept-rejects'?: boolean;
        'problems-file'?: string;
      };
      try {
        ({ values } = parseArgs({
          args,
          options: {
            'source-url': { type: 'string' },
            'dry-run': { type: 'boolean' },
            'accept-rejects': { type: 'boolean' },
            'problems-file': { type: 'string' },
          },
        }));
      } catch (err) {
        process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
        return 2;
      }
      const sourceUrl = values['source-url'];
      if (!sourceUrl || !/^postgres(ql)?:\/\//.test(sourceUrl)) {
        process.stderr.write(USAGE);
        return 2;
      }
      const dryRun = values['dry-run'] === true;
      const services = await open();
      const started = Date.now();
      let report;
      try {
        report = await importFromDjango(
          {
            db: services.db,
            cipher: services.cipher,
            blindIndexKey: services.config.encryption.blindIndexKey,
            timeZone: services.config.timeZone,
            deletionGraceDays: services.config.retention.deletionGraceDays,
            now: services.now,
          },
          {
            sourceUrl,
            legacyKey: process.env.LEGACY_FIELD_ENCRYPTION_KEY,
            dryRun,
            progress: (line) => process.stderr.write(`${line}\n`),
          },
        );
      } catch (err) {
        if (err instanceof ImportRefused) {
          process.stderr.write(`import:django: ${err.message}\n`);
          return 1;
        }
        throw err;
      }
      say(formatReport(report, { dryRun }));
      if (values['problems-file']) {
        const lines = report.problems.map((p) => `${p.kind}\t${p.table}\t${p.id ?? ''}\t${p.reason}`);
        await writeFile(values['problems-file'], `${lines.join('\n')}\n`, { mode: 0o600 });
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      say(
        `${dryRun ? 'dry run: nothing was written' : 'import finished'} in ${seconds} s; ` +
          `${String(report.problems.length)} problem${report.problems.length === 1 ? '' : 's'}`,
      );
      if (report.hasProblems() && values['accept-rejects'] !== true) {
        say('exit code 1: rows were rejected or altered (see above); --accept-rejects accepts them');
        return 1;
      }
      return 0;
    },
  },
};
