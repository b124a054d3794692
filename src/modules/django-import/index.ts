/**
 * Moving in from the original Django service (docs/migrating-from-django.md): `import:django`.
 */
export { importCommands } from './cli.js';
export { importFromDjango, ImportRefused, type ImportDeps, type ImportOptions } from './run.js';
export { formatReport, type ImportReport } from './report.js';
