import { parseArgs } from 'node:util';
import { say, type CliCommands } from '../../cli/command.js';
import type { Config } from '../../config.js';
import type { Db } from '../../db/client.js';
import type { FieldCipher } from '../../lib/crypto/field-cipher.js';
import type { DataKeyStore } from './data-keys.js';
import { KeyBackupError, listKeyBackups, readKeyBackup } from './backup.js';
import { restoreKeyBackup } from './backup-restore.js';
import { backUpKeys } from './jobs.js';
import { reencryptRecords, type SealedTable, type TableReport } from './reencryption.js';
import { dataKeyStatus, rotateDataKeys } from './rotation.js';

export interface KeyCommandDeps {
  db: Db;
  cipher: FieldCipher;
  dataKeys: DataKeyStore;
  now: () => Date;
  config: { encryption: Pick<Config['encryption'], 'keys' | 'activeKeyId'> } & Pick<Config, 'keyBackup'>;
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

/** The key backups and their ages; false when one is past its retention (the daily job is not running). */
async function sayBackups(keyBackup: Config['keyBackup'], now: Date): Promise<boolean> {
  if (keyBackup.dir === undefined) {
    say('key backups: not written by this service (KEY_BACKUP_DIR is not set)');
    return true;
  }
  const backups = await listKeyBackups(keyBackup.dir);
  const newest = backups.at(-1);
  const oldest = backups[0];
  if (!newest || !oldest) {
    say(`key backups in ${keyBackup.dir}: none yet`);
    return true;
  }
  say(
    `key backups in ${keyBackup.dir}: ${String(backups.length)}, newest ${newest.takenAt.toISOString()}, oldest ${oldest.takenAt.toISOString()}`,
  );
  const overdue = backups.filter(
    (b) => now.getTime() - b.takenAt.getTime() > keyBackup.retentionDays * 86_400_000,
  );
  if (overdue.length === 0) return true;
  say(
    `${String(overdue.length)} key backups are older than KEY_BACKUP_RETENTION_DAYS (${String(keyBackup.retentionDays)}): run keys:backup, or check that the keys.backup job runs`,
  );
  return false;
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
    help: 'count data keys per master key id (a key id that is not configured cannot be read) and list the key backups; exit 1 if a key id is not configured or a backup is past its retention',
    run: async (_args, container) => {
      const c = await container();
      const rows = await dataKeyStatus(c.db, new Set(c.config.encryption.keys.keys()));
      say(`active master key: ${c.config.encryption.activeKeyId}`);
      for (const r of rows)
        say(`${r.masterKeyId}: ${r.dataKeys} data keys${r.configured ? '' : ' (NOT CONFIGURED)'}`);
      const backupsOk = await sayBackups(c.config.keyBackup, c.now());
      return rows.every((r) => r.configured) && backupsOk ? 0 : 1;
    },
  },
  'keys:backup': {
    help: 'write a backup of the data keys to KEY_BACKUP_DIR now and delete backups older than KEY_BACKUP_RETENTION_DAYS (the daily keys.backup job does the same)',
    run: async (_args, container) => {
      const c = await container();
      const { dir, retentionDays } = c.config.keyBackup;
      if (dir === undefined) return usage('KEY_BACKUP_DIR is not set: there is nowhere to write key backups');
      const r = await backUpKeys(c, dir);
      say(`wrote ${String(r.keys)} data keys to ${r.file}`);
      say(
        `deleted ${String(r.deleted)} backups older than ${String(retentionDays)} days; ${String(r.kept)} kept`,
      );
      return 0;
    },
  },
  'keys:restore': {
    help: '--file F [--dry-run]  put data keys from a key backup back where a live user has none; never overwrites a key, never restores the key of an erased person',
    run: async (args, container) => {
      const { values } = parseArgs({
        args,
        options: { file: { type: 'string' }, 'dry-run': { type: 'boolean', default: false } },
      });
      if (!values.file) return usage('--file is required: the key backup file to read');
      let backup;
      try {
        backup = await readKeyBackup(values.file);
      } catch (err) {
        if (err instanceof KeyBackupError)
          return usage(`${values.file}: ${err.message}; nothing was restored`);
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return usage(`${values.file}: no such file`);
        throw err;
      }
      const c = await container();
      const dryRun = values['dry-run'];
      const r = await restoreKeyBackup(
        { db: c.db, configuredMasterKeys: new Set(c.config.encryption.keys.keys()) },
        backup.keys,
        { dryRun },
      );
      say(`backup taken ${backup.takenAt.toISOString()}: ${String(backup.keys.length)} data keys`);
      say(
        `${dryRun ? 'would restore' : 'restored'} ${String(r.restored)}; kept the key already there for ${String(r.present)}`,
      );
      say(
        `not restored: ${String(r.erased)} erased, ${String(r.unknown)} no such user, ${String(r.unknownMasterKey)} wrapped by a master key that is not configured`,
      );
      return r.unknownMasterKey > 0 ? 1 : 0;
    },
  },
};
