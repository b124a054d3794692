import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * argon2id on threads of our own that run at the lowest CPU priority (docs/operations.md#password-hashing):
 * a login storm then takes only the CPU that reads and writes leave, instead of competing with them
 * (on libuv's pool, hashes ran at the event loop's priority and slowed every request beside them).
 * Each thread lowers its own priority (Linux: a thread is niced by its id) and hashes synchronously,
 * one job at a time; jobs wait in arrival order. Where the priority cannot be lowered, the threads
 * still keep hashing off the event loop.
 */
export interface Argon2Options {
  algorithm: number;
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

type Job =
  { op: 'hash'; password: string; options: Argon2Options } | { op: 'verify'; hash: string; password: string };

// Plain CommonJS so the same code runs under tsx, vitest and the built service.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
const fs = require('node:fs');
try {
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) os.setPriority(tid, 19);
} catch {}
const argon2 = require(workerData.argon2);
parentPort.on('message', ({ id, job }) => {
  try {
    const result = job.op === 'hash' ? argon2.hashSync(job.password, job.options) : argon2.verifySync(job.hash, job.password);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

export function createArgon2Threads(size: number) {
  const argon2 = createRequire(import.meta.url).resolve('@node-rs/argon2');
  const threads: { worker: Worker; job: number | null }[] = [];
  const waiting: { job: Job; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;

  function spawn() {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { argon2 } });
    // Idle threads never keep the process alive.
    worker.unref();
    const thread: { worker: Worker; job: number | null } = { worker, job: null };
    worker.on('message', (msg: { id: number; result?: unknown; error?: string }) => {
      const done = pending.get(msg.id);
      pending.delete(msg.id);
      thread.job = null;
      if (msg.error !== undefined) done?.reject(new Error(msg.error));
      else done?.resolve(msg.result);
      dispatch();
    });
    worker.on('error', (err) => {
      // A thread that died takes its job with it; the next job gets a new thread.
      threads.splice(threads.indexOf(thread), 1);
      if (thread.job !== null) {
        pending.get(thread.job)?.reject(err);
        pending.delete(thread.job);
      }
      dispatch();
    });
    threads.push(thread);
    return thread;
  }

  function dispatch() {
    while (waiting.length > 0) {
      const thread = threads.find((t) => t.job === null) ?? (threads.length < size ? spawn() : undefined);
      if (!thread) return;
      const next = waiting.shift();
      if (!next) return;
      const id = (nextId += 1);
      thread.job = id;
      pending.set(id, { resolve: next.resolve, reject: next.reject });
      thread.worker.postMessage({ id, job: next.job });
    }
  }

  const run = (job: Job) =>
    new Promise<unknown>((resolve, reject) => {
      waiting.push({ job, resolve, reject });
      dispatch();
    });

  return {
    hash: async (password: string, options: Argon2Options) =>
      String(await run({ op: 'hash', password, options })),
    verify: async (hash: string, password: string) => (await run({ op: 'verify', hash, password })) === true,
    async close(): Promise<void> {
      await Promise.all(threads.map((t) => t.worker.terminate()));
      threads.length = 0;
    },
  };
}
export type Argon2Threads = ReturnType<typeof createArgon2Threads>;
