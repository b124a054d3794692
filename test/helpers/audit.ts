import { setTimeout as sleep } from 'node:timers/promises';
import { count, isNull } from 'drizzle-orm';
import { vi } from 'vitest';
import type { Container } from '../../src/container.js';
import { auditLog } from '../../src/db/schema.js';
import { auditCommands } from '../../src/modules/audit/index.js';

/** Runs an audit CLI command on a container; returns its exit code and what it printed (both streams). */
export async function runCli(
  c: Container,
  name: string,
  args: string[],
): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    const code = await auditCommands[name]!.run(args, () => Promise.resolve(c));
    return { code, text: lines.join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/**
 * Runs the sealer until `done()` (by default: no entry is left unsealed). On PostgreSQL the sealer
 * waits for every older write transaction of the whole server to end, other test files' included
 * (docs/privacy.md#append-only-chain), so one run may leave entries for the next.
 */
export async function sealUntil(
  c: Pick<Container, 'auditChain' | 'db'>,
  done: () => Promise<boolean> = async () =>
    (await c.db.select({ n: count() }).from(auditLog).where(isNull(auditLog.seq)))[0]!.n === 0,
): Promise<{ sealed: number; head: { seq: number; hash: string } | null }> {
  let sealed = 0;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const result = await c.auditChain.seal({ wait: true });
    sealed += result.sealed;
    if (await done()) return { sealed, head: result.head };
    if (Date.now() > deadline) throw new Error('audit entries still unsealed after 20 s');
    await sleep(50);
  }
}
