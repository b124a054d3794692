/**
 * Runs a phase once (CPU time and statements read before and after, every load at once) and folds
 * the rounds of each phase into medians.
 */
import { statementsSent } from './http.js';
import { drive, median, percentile, type LoadResult } from './load.js';
import type { Phase } from './phases.js';

export interface PhaseSample {
  loads: LoadResult[];
  cpuMicros: number;
  statements: number;
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

async function statementsOf(phase: Phase): Promise<number> {
  return sum(await Promise.all(phase.services.map((s) => statementsSent(s.port))));
}

export async function runPhase(phase: Phase): Promise<PhaseSample> {
  const statementsBefore = await statementsOf(phase);
  const cpuBefore = sum(phase.processes.map((p) => p.cpuMicros()));
  const loads = await Promise.all(phase.loads.map((spec) => drive(spec)));
  const cpuMicros = sum(phase.processes.map((p) => p.cpuMicros())) - cpuBefore;
  const statements = (await statementsOf(phase)) - statementsBefore;
  return { loads, cpuMicros, statements };
}

/** One table row: medians over the rounds of one load of one phase. */
export interface Row {
  key: string;
  label: string;
  connections: number;
  rps: number;
  p50: number;
  p99: number;
  /** Per request of this load; NaN where not attributable (a load beside another). */
  cpuPerRequest: number;
  statementsPerRequest: number;
  requests: number;
  errors: number;
  /** Status → count over all rounds. */
  statuses: Map<number, number>;
}

function mergeStatuses(results: LoadResult[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const r of results) for (const [status, n] of r.statuses) out.set(status, (out.get(status) ?? 0) + n);
  return out;
}

/**
 * Rows of a phase from its samples. CPU and statements are totals over the rounds divided by the
 * requests; with `othersPricedBy`, the other loads' requests are priced at that phase's per-request
 * figures and taken out before dividing by load 0's requests.
 */
export function summarise(phase: Phase, samples: PhaseSample[], priced: Map<string, Row>): Row[] {
  const cpu = sum(samples.map((s) => s.cpuMicros));
  const statements = sum(samples.map((s) => s.statements));
  const base = phase.othersPricedBy ? priced.get(phase.othersPricedBy) : undefined;
  return phase.loads.map((spec, i) => {
    const results = samples.map((s) => s.loads[i]).filter((r): r is LoadResult => r !== undefined);
    const requests = sum(results.map((r) => r.requests));
    let cpuPerRequest = Number.NaN;
    let statementsPerRequest = Number.NaN;
    if (phase.loads.length === 1) {
      cpuPerRequest = cpu / requests;
      statementsPerRequest = statements / requests;
    } else if (i === 0 && base) {
      const others = sum(samples.flatMap((s) => s.loads.slice(1).map((r) => r.requests)));
      cpuPerRequest = (cpu - others * base.cpuPerRequest) / requests;
      statementsPerRequest = (statements - others * base.statementsPerRequest) / requests;
    }
    return {
      key: phase.key,
      label: phase.labels[i] ?? phase.key,
      connections: spec.connections,
      rps: median(results.map((r) => r.requests / r.seconds)),
      p50: median(results.map((r) => percentile(r.latencies, 50))),
      p99: median(results.map((r) => percentile(r.latencies, 99))),
      cpuPerRequest,
      statementsPerRequest: phase.services.length ? statementsPerRequest : Number.NaN,
      requests,
      errors: sum(results.map((r) => r.errors)),
      statuses: mergeStatuses(results),
    };
  });
}
