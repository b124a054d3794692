import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationsDirBeside } from '../src/db/migrate.js';
import { noticeTemplatePath } from '../src/modules/privacy/policy/template.js';

/**
 * The build runs on its own (docs/operations.md#packaging): `npm run build` copies what the compiled
 * code reads at run time to where that code looks for it, and everything the code imports is a
 * production dependency, so `npm ci --omit=dev` is enough to run dist/. (.ci/run also starts the build
 * from a production-only install in a folder without src/.)
 */
const repo = path.resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

describe('the build carries its run-time files', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pss-build-'));
  afterAll(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('puts every migration and the privacy notice template where the compiled code looks', () => {
    execFileSync(process.execPath, [path.join(repo, 'scripts/copy-run-time-files.mjs'), out]);
    // The compiled files sit at the same places under the build as their sources under the repository.
    const migrations = migrationsDirBeside(path.join(out, 'src/db'));
    expect(migrations).toBe(path.join(out, 'migrations'));
    const journal = JSON.parse(readFileSync(path.join(migrations, 'meta/_journal.json'), 'utf8')) as {
      entries: { tag: string }[];
    };
    expect(journal.entries.length).toBeGreaterThan(0);
    for (const { tag } of journal.entries) expect(existsSync(path.join(migrations, `${tag}.sql`))).toBe(true);
    expect(readFileSync(noticeTemplatePath(path.join(out, 'src/modules/privacy/policy')), 'utf8')).toMatch(
      /\{\{\s*effective_date\s*\}\}/,
    );
  });
});

describe('run-time code needs production dependencies only', () => {
  it('imports from src/ only node built-ins and packages listed in dependencies', () => {
    const missing = new Set<string>();
    const seen = new Set<string>();
    for (const file of sourceFiles(path.join(repo, 'src'))) {
      const text = readFileSync(file, 'utf8');
      // Import and export statements, side-effect imports and import(): not the word "from" in prose or SQL.
      const statements =
        /^\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
      for (const m of text.matchAll(statements)) {
        const specifier = (m[1] ?? m[2] ?? m[3])!;
        if (specifier.startsWith('.')) continue;
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const name = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0]!;
        seen.add(name);
        if (!(name in pkg.dependencies)) missing.add(`${name} (${path.relative(repo, file)})`);
      }
    }
    expect([...missing]).toEqual([]);
    // The scan does see the imports: one-line, multi-line and dynamic ones.
    for (const name of ['fastify', 'drizzle-orm', 'bullmq', '@sentry/node']) expect(seen).toContain(name);
  });

  it('keeps the compiler and tsx out of production', () => {
    for (const tool of ['typescript', 'tsx']) {
      expect(pkg.dependencies).not.toHaveProperty(tool);
      expect(pkg.devDependencies).toHaveProperty(tool);
    }
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}
