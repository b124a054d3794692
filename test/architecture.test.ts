import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The dependency rules of docs/ARCHITECTURE.md ("Boundaries"), run by `npm run lint` through
 * dependency-cruiser: main keeps them, and each rule fires on a deliberate violation (a small tree
 * written for the test, so the rules are known to bite, not only to pass).
 */
const require = createRequire(import.meta.url);
const { rules } = require('../dependency-rules.cjs') as {
  rules: (root: string) => ICruiseOptions['ruleSet'];
};
const repo = path.resolve(import.meta.dirname, '..');

async function violations(baseDir: string): Promise<IViolation[]> {
  const result = await cruise(['src'], {
    baseDir,
    ruleSet: { forbidden: rules('src') as never },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    validate: true,
  });
  if (typeof result.output === 'string') throw new Error(result.output);
  return result.output.summary.violations;
}

describe('dependency rules', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A tree of files (path → source) with the repository's node_modules, as `src/` would see them. */
  function tree(files: Record<string, string>): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'pss-arch-'));
    dirs.push(dir);
    symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    return dir;
  }
  const ruleNames = (found: IViolation[]) => [...new Set(found.map((v) => v.rule.name))].sort();

  it('main keeps every rule', async () => {
    const found = await violations(repo);
    expect(found.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  }, 60_000);

  it('a module reaching into another module (not its index.ts) is refused', async () => {
    const dir = tree({
      'src/modules/journal/index.ts': "export { note } from './service.js';\n",
      'src/modules/journal/service.ts': "import { row } from '../users/repo.js';\nexport const note = row;\n",
      'src/modules/users/index.ts': "export { row } from './repo.js';\n",
      'src/modules/users/repo.ts': 'export const row = 1;\n',
    });
    expect(ruleNames(await violations(dir))).toEqual(['module-door']);
  });

  it('the root reaching into a module (not its index.ts) is refused', async () => {
    const dir = tree({
      'src/app.ts': "import { row } from './modules/users/repo.js';\nexport const app = row;\n",
      'src/modules/users/index.ts': "export { row } from './repo.js';\n",
      'src/modules/users/repo.ts': 'export const row = 1;\n',
    });
    expect(ruleNames(await violations(dir))).toEqual(['outside-through-the-door']);
  });

  it('an import cycle is refused, also when one side imports only a type', async () => {
    const dir = tree({
      'src/modules/auth/index.ts':
        "import type { User } from '../users/index.js';\nexport type Auth = User;\n",
      'src/modules/users/index.ts':
        "import type { Auth } from '../auth/index.js';\nexport type User = { a?: Auth };\n",
    });
    expect(ruleNames(await violations(dir))).toEqual(['no-circular']);
  });

  it('a module importing the composition root is refused', async () => {
    const dir = tree({
      'src/container.ts': 'export const container = {};\n',
      'src/modules/journal/index.ts':
        "import type { container } from '../../container.js';\nexport type C = typeof container;\n",
    });
    expect(ruleNames(await violations(dir))).toEqual(['modules-not-the-root']);
  });

  it('lib/ importing Fastify or a module is refused', async () => {
    const dir = tree({
      'src/lib/paging.ts':
        "import type { FastifyRequest } from 'fastify';\nexport type R = FastifyRequest;\n",
      'src/lib/other.ts': "import { x } from '../modules/users/index.js';\nexport const y = x;\n",
      'src/modules/users/index.ts': 'export const x = 1;\n',
    });
    expect(ruleNames(await violations(dir))).toEqual(['lib-is-framework-free']);
  });

  it('a service or repo importing Fastify or an HTTP schema module is refused', async () => {
    const dir = tree({
      'src/modules/journal/index.ts': "export { list } from './service.js';\n",
      'src/modules/journal/service.ts':
        "import type { Entry } from './schemas.js';\nexport const list = (e: Entry) => e;\n",
      'src/modules/journal/schemas.ts': 'export type Entry = { id: number };\n',
      'src/modules/journal/repo.ts':
        "import type { FastifyRequest } from 'fastify';\nexport type R = FastifyRequest;\n",
    });
    expect(ruleNames(await violations(dir))).toEqual(['data-layer-without-http']);
  });
});
