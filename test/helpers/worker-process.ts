import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Secrets shared by a test's web container and the worker processes it starts (same keys, same data). */
export function sharedSecrets(): Record<string, string> {
  return {
    SECRET_KEY: randomBytes(48).toString('base64url'),
    FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    FIELD_ENCRYPTION_ACTIVE_KEY: 'k1',
    BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it logged so far (JSON lines). */
  log: () => string;
  /** Resolves when a log line contains `text`. */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  exited: Promise<number | null>;
}

/** Starts `src/worker.ts` as its own process, as `npm run worker` would (through tsx, no build). */
export function startWorker(env: Record<string, string>): WorkerProcess {
  const root = path.resolve(import.meta.dirname, '../..');
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      APP_ENV: 'test',
      DATA_DIR: mkdtempSync(path.join(tmpdir(), 'pss-worker-')),
      WORKER_PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const w of [...waiters]) {
      if (output.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      resolve(code);
    }),
  );
  return {
    child,
    log: () => output,
    exited,
    waitFor: (text, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (output.includes(text)) {
          resolve();
          return;
        }
        const timer = setTimeout(() => {
          reject(new Error(`worker did not log "${text}" in time:\n${output}`));
        }, timeoutMs);
        waiters.push({
          text,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
  };
}
