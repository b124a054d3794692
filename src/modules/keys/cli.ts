import { parseArgs } from 'node:util';
import { say, type CliCommands } from '../../cli/command.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { DataKeyStore } from './data-keys.js';
import { reencryptRecords, type SealedTable, type TableReport } from './reencryption.js';
import { dataKeyStatus, rotateDataKeys } from './rotation.js';

export interface KeyCommandDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  now: () => Date;
  config: { encryption: Pick<Config['encryption'], 'keys' | 'activeKeyId'> };
  /** Every table with a sealed record, from the modules that own them (composed in src/services.ts). */
  sealedTables: readonly SealedTable[];
}

const usage = (message: string) => {
  process.stderr.write(`${message}\n`);
  return 2;
};

/** The ids of skipped rows, by reason (ids only: never a value). */
function sayReport(r: TableReport, dryRun: boolean) {
  if (dryRun) {
    say(`${r.table}: ${String(r.pending)} rows would be re-sealed`);
    return;
  }
  say(`${r.table}: ${String(r.sealed)} re-sealed, ${String(r.left)} left in the per-field format`);
  for (const reason of ['unreadable', 'erased', 'no data key'] as const) {
    const ids = r.skipped.filter((s) => s.reason === reason).map((s) => s.id);
    if (ids.length === 0) continue;
    const shown = ids.slice(0, 50).join(', ');
    const more = ids.length > 50 ? ` and ${String(ids.length - 50)} more` : '';
    const why = reason === 'unreadable' ? 'could not be decrypted' : `skipped (${reason})`;
    say(`${r.table}: ${String(ids.length)} rows ${why}, left as they are: ids ${shown}${more}`);
  }
}

/** Key management commands (docs/operations.md#command-line). */
export const keyCommands: CliCommands<KeyCommandDeps> = {
  'keys:rotate': {
    help: 're-wrap every data key with the active master key (FIELD_ENCRYPTION_ACTIVE_KEY); safe while serving',
    run: async (_args, container) => {
      const c = await container();
      const result = await rotateDataKeys(c, (done) => {
        say(`re-wrapped ${done} data keys so far`);
      });
      say(`re-wrapped ${result.rewrapped} data keys with master key "${result.activeKeyId}"`);
      return 0;
    },
  },
  'keys:reencrypt': {
    help: '[--dry-run] [--batch-size N]  re-seal rows still in the per-field format as one record per row; online, resumable; exit 1 if rows are left',
    run: async (args, container) => {
      const { values } = parseArgs({
        args,
        options: {
          'dry-run': { type: 'boolean', default: false },
          'batch-size': { type: 'string' },
        },
      });
      const raw = values['batch-size'];
      if (raw !== undefined && (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000)) {
        return usage(`--batch-size must be a whole number from 1 to 10000, got "${raw}"`);
      }
      const dryRun = values['dry-run'];
      const c = await container();
      const reports = await reencryptRecords(c, c.sealedTables, {
        dryRun,
        onProgress: say,
        ...(raw === undefined ? {} : { batchSize: Number(raw) }),
      });
      for (const r of reports) sayReport(r, dryRun);
      return !dryRun && reports.some((r) => r.left > 0) ? 1 : 0;
    },
  },
  'keys:status': {
    help: 'count data keys per master key id (a key id that is not configured cannot be read)',
    run: async (_args, container) => {
      const c = await container();
      const rows = await dataKeyStatus(c.db, new Set(c.config.encryption.keys.keys()));
      say(`active master key: ${c.config.encryption.activeKeyId}`);
      for (const r of rows)
        say(`${r.masterKeyId}: ${r.dataKeys} data keys${r.configured ? '' : ' (NOT CONFIGURED)'}`);
      return rows.every((r) => r.configured) ? 0 : 1;
    },
  },
};
