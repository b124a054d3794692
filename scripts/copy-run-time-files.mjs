// The second half of `npm run build` (after `tsc -p tsconfig.build.json`): copies the files the
// compiled code reads at run time to the place it looks for them, relative to its own location, so
// that dist/ runs with production dependencies only and without src/ or migrations/ beside it
// (docs/operations.md#packaging). `node scripts/copy-run-time-files.mjs [outDir]`, default dist.
import { cpSync, existsSync, rmSync } from 'node:fs';
import process from 'node:process';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const outDir = path.resolve(repo, process.argv[2] ?? 'dist');

/** Repository folder → the same place under the build (the code resolves both the same way). */
const RUN_TIME_FILES = [
  // src/db/migrate.ts: migrations/ two folders above src/db, so dist/migrations for dist/src/db.
  'migrations',
  // src/modules/privacy/policy/template.ts: templates/ beside policy/.
  'src/modules/privacy/templates',
];

for (const folder of RUN_TIME_FILES) {
  const from = path.join(repo, folder);
  if (!existsSync(from)) throw new Error(`run-time folder ${folder} is missing`);
  const to = path.join(outDir, folder);
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true });
}
