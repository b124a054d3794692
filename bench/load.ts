/**
 * The load generator: `connections` workers, each with its own keep-alive connection, sending one
 * request after another for `seconds`; every latency is kept (milliseconds, sorted at the end).
 */
import http from 'node:http';
import { send, type Reply, type RequestSpec } from './http.js';

export interface LoadSpec {
  /** Workers are spread over these ports round-robin (two service instances). */
  ports: number[];
  connections: number;
  seconds: number;
  /** The request worker `worker` sends as its `seq`-th. */
  request: (worker: number, seq: number) => RequestSpec;
  /** Statuses that count as answered as intended (default 200). */
  ok?: number[];
  /** Sees every reply (e.g. to keep the ids of created rows). */
  onReply?: (worker: number, reply: Reply) => void;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Sorted ascending, milliseconds. */
  latencies: number[];
  statuses: Map<number, number>;
  /** Replies with a status outside `ok`, plus network failures. */
  errors: number;
}

export async function drive(spec: LoadSpec): Promise<LoadResult> {
  const perPort = Math.ceil(spec.connections / spec.ports.length);
  const agents = spec.ports.map(() => new http.Agent({ keepAlive: true, maxSockets: perPort }));
  const ok = new Set(spec.ok ?? [200]);
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const started = process.hrtime.bigint();
  const end = Date.now() + spec.seconds * 1000;
  const worker = async (w: number) => {
    const slot = w % spec.ports.length;
    const port = spec.ports[slot] ?? 0;
    const agent = agents[slot];
    for (let seq = 0; Date.now() < end; seq += 1) {
      const t0 = process.hrtime.bigint();
      try {
        const reply = await send(port, spec.request(w, seq), agent);
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        if (!ok.has(reply.status)) errors += 1;
        spec.onReply?.(w, reply);
      } catch {
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
        errors += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.connections }, (_, w) => worker(w)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const agent of agents) agent.destroy();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, seconds, latencies, statuses, errors };
}

/** The p-th percentile (0–100) of sorted values; NaN for none. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function median(values: number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 ? (finite[mid] ?? Number.NaN) : ((finite[mid - 1] ?? 0) + (finite[mid] ?? 0)) / 2;
}
