import type { Db } from '../../db/client.js';
import type { Config } from '../../config.js';
import { recordAudit } from '../audit/index.js';
import type { ScheduledJob } from '../jobs/index.js';
import { pruneKeyBackups, writeKeyBackup } from './backup.js';

export interface KeyBackupDeps {
  db: Db;
  now: () => Date;
  config: Pick<Config, 'keyBackup'>;
}

/**
 * Writes today's key backup, then deletes those past the retention (docs/privacy.md#key-backups). The
 * deletion happens even when the backup fails (a full disk, say): the retention is a promise to erased
 * people, a missing backup only a warning.
 */
export async function backUpKeys(deps: KeyBackupDeps, dir: string) {
  const prune = () =>
    pruneKeyBackups({ dir, retentionDays: deps.config.keyBackup.retentionDays, now: deps.now });
  let written: { file: string; keys: number };
  try {
    written = await writeKeyBackup({ db: deps.db, dir, now: deps.now });
  } catch (err) {
    await prune().catch(() => undefined);
    throw err;
  }
  const { file, keys } = written;
  const pruned = await prune();
  await recordAudit(
    deps.db,
    { actor: null, meta: null },
    {
      action: 'data_keys_backed_up',
      resourceType: 'data_key',
      metadata: { keys, backups_deleted: pruned.deleted, backups_kept: pruned.kept },
    },
  );
  return { file, keys, deleted: pruned.deleted, kept: pruned.kept };
}

/** The keys module's clock jobs: a daily key backup when `KEY_BACKUP_DIR` is set, none otherwise. */
export function keyJobs(deps: KeyBackupDeps): ScheduledJob[] {
  const { dir } = deps.config.keyBackup;
  if (dir === undefined) return [];
  return [
    {
      name: 'keys.backup',
      schedule: { cron: '0 1 * * *' },
      run: async () => {
        const r = await backUpKeys(deps, dir);
        return { keys: r.keys, backups_deleted: r.deleted, backups_kept: r.kept };
      },
    },
  ];
}
