/**
 * The keys module's public face: per-user data keys, the erased-subject lock, rotation and
 * re-sealing commands (each module owning a sealed table gives a `SealedTable` built with `resealWith`).
 */
export { assertLiveSubject, createDataKeyStore, lockLiveSubject, type DataKeyStore } from './data-keys.js';
export { keyCommands } from './cli.js';
export {
  reencryptRecords,
  resealWith,
  type PendingRow,
  type SealedTable,
  type TableReport,
} from './reencryption.js';
export { keyJobs, backUpKeys } from './jobs.js';
export { listKeyBackups, readKeyBackup, KeyBackupError } from './backup.js';
export { restoreKeyBackup, type KeyRestoreReport } from './backup-restore.js';
