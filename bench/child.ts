/**
 * The processes the bench measures: the service (src/main.ts) and the two ceilings, each a child
 * process of its own; CPU time is read from /proc/<pid>/stat (utime + stime, all threads).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from './http.js';

export interface Child {
  name: string;
  port: number;
  pid: number;
  /** CPU time (user + system, every thread) used so far, in microseconds. */
  cpuMicros(): number;
  stop(): Promise<void>;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of a process (fields 14 and 15 of /proc/<pid>/stat, after the command name). */
export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1e6) / clockTicks();
}

async function waitFor(url: string, child: ChildProcess, seconds: number): Promise<void> {
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    try {
      if ((await get(url)).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer 200 within ${seconds} s`);
}

export interface SpawnOptions {
  name: string;
  port: number;
  /** Node arguments after `--import tsx`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Path answered 200 once the process is ready. */
  readyPath: string;
}

export async function startChild(opts: SpawnOptions): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...opts.args], {
    env: opts.env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${opts.name} did not start`);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve();
    }),
  );
  try {
    await waitFor(`http://127.0.0.1:${opts.port}${opts.readyPath}`, child, 180);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    name: opts.name,
    port: opts.port,
    pid,
    cpuMicros: () => processCpuMicros(pid),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killed);
    },
  };
}

/** A bare server answering one small JSON object (bench/ceiling-server.ts). */
export function startCeiling(kind: 'http' | 'fastify', port: number): Promise<Child> {
  return startChild({
    name: kind === 'http' ? 'node:http' : 'fastify',
    port,
    args: ['bench/ceiling-server.ts', kind, String(port)],
    env: { ...process.env },
    readyPath: '/',
  });
}
