import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers/app.js';

/**
 * The Grafana dashboard in the repository (deploy/grafana/pss-api-dashboard.json) only queries
 * metrics the service really exports: a panel on a renamed or removed metric would stay empty
 * without anyone noticing.
 */
interface Panel {
  title: string;
  targets: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync('deploy/grafana/pss-api-dashboard.json', 'utf8')) as {
  panels: Panel[];
};

/** PromQL words that are not metric names. */
const PROMQL = new Set(['sum', 'min', 'max', 'by', 'rate', 'increase', 'histogram_quantile', 'topk', 'le']);

/** Exported only when the database is PostgreSQL (a connection pool); the embedded database has none. */
const POSTGRES_ONLY = new Set(['db_pool_connections']);

function metricNames(expr: string): string[] {
  const withoutLabels = expr.replace(/\{[^}]*\}/g, '').replace(/by \([^)]*\)/g, '');
  const words = withoutLabels.match(/[a-z_][a-z0-9_]*/g) ?? [];
  return words
    .filter((w) => !PROMQL.has(w) && w.includes('_'))
    .map((w) => w.replace(/_(bucket|sum|count)$/, ''));
}

describe('Grafana dashboard', () => {
  let t: TestApp;
  let exported: Set<string>;
  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: undefined });
    const res = await t.request({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    exported = new Set([...res.body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? ''));
  });
  afterAll(async () => {
    await t.close();
  });

  it('every panel queries only metrics the service exports', () => {
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets) {
        const names = metricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const name of names) {
          if (t.c.database.kind === 'pglite' && POSTGRES_ONLY.has(name)) continue;
          expect(exported.has(name), `${panel.title}: ${name}`).toBe(true);
        }
      }
    }
  });

  it('covers every metric the service defines itself', () => {
    const queried = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((q) => metricNames(q.expr))));
    const own = [...exported].filter((m) => !m.startsWith('process_') && !m.startsWith('nodejs_'));
    expect(own.filter((m) => !queried.has(m))).toEqual([]);
  });
});
