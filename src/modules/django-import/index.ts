/**
 * Moving in from the original Django service (docs/migrating-from-django.md): `import:django`.
 */
export { importCommands } from './cli.js';
export { importFromDjango, ImportRefused, type ImportDeps, type ImportOptions } from './run.js';
export { formatReport, type ImportReport } from './report.js';
/** The original's Fernet-encrypted profile columns (also used by the import bench to build a source). */
export { ENCRYPTED_PROFILE_COLUMNS } from './steps/profiles.js';
