/**
 * `npm run bench`: starts the service in a child process (embedded database unless
 * BENCH_DATABASE_URL is set; Redis when BENCH_REDIS_URL is set), then drives authenticated reads
 * with 32 keep-alive connections from this process and prints latency percentiles and throughput.
 * Results are written down in docs/PERFORMANCE.md; no test asserts a timing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const PORT = Number(process.env.BENCH_PORT ?? 18900);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });

function request(
  method: string,
  url: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port: PORT,
        method,
        path: url,
        agent,
        headers: {
          ...(payload
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

async function waitReady(): Promise<void> {
  for (let i = 0; i < 120; i += 1) {
    try {
      if ((await request('GET', '/health/ready/')).status === 200) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('service did not become ready');
}

async function load(name: string, url: string, token: string) {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      const res = await request('GET', url, undefined, token);
      latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (res.status !== 200) errors += 1;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  console.log(
    `${name.padEnd(28)} ${String(latencies.length).padStart(7)} req  ${(latencies.length / elapsed).toFixed(0).padStart(6)} req/s  ` +
      `p50 ${pct(50).toFixed(2)} ms  p90 ${pct(90).toFixed(2)} ms  p99 ${pct(99).toFixed(2)} ms  errors ${errors}`,
  );
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pss-bench-'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(PORT),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      APP_ENV: 'development',
      DATABASE_URL: process.env.BENCH_DATABASE_URL ?? '',
      REDIS_URL: process.env.BENCH_REDIS_URL ?? '',
      RATE_LIMIT_USER: 'off',
      RATE_LIMIT_REGISTER: 'off',
      RATE_LIMIT_LOGIN: 'off',
      RATE_LIMIT_ANON: 'off',
      EMAIL_BACKEND: 'memory',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitReady();
    const email = `bench.${randomBytes(4).toString('hex')}@capaciti.org.za`;
    const reg = await request('POST', '/api/auth/register/', {
      email,
      password: 'Tq9!Vb7#Lm4$Xz2k',
      first_name: 'Bench',
    });
    const token = (reg.json as { access: string }).access;
    for (let i = 0; i < 20; i += 1) {
      await request(
        'POST',
        '/api/journal/',
        {
          date: `2026-01-${String(i + 1).padStart(2, '0')}`,
          mood: 'good',
          energy_level: 6,
          activities: `bench ${i}`,
        },
        token,
      );
    }
    console.log(
      `# ${CONNECTIONS} connections, ${SECONDS} s each, database ${process.env.BENCH_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}, redis ${process.env.BENCH_REDIS_URL ? 'on' : 'off'}`,
    );
    await load('GET /api/auth/me/', '/api/auth/me/', token);
    await load('GET /api/journal/ (20 rows)', '/api/journal/', token);
    await load('GET /api/dashboard/candidate-stats/', '/api/dashboard/candidate-stats/', token);
  } finally {
    child.kill('SIGTERM');
    agent.destroy();
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
