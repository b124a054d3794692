import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createTestApp, type TestApp } from './helpers/app.js';

/**
 * The monitoring of deploy/compose.yaml, for real: a Prometheus (Debian's, when installed; CI installs
 * it) runs deploy/prometheus/prometheus.yml with only its targets and the token file's path changed,
 * and scrapes a running API instance that holds METRICS_TOKEN and an ALLOWED_HOSTS list without the
 * instance's address, as the compose instances do. Every target must be up and serve the metrics the
 * dashboard reads.
 */
const promtool = spawnSync('promtool', ['--version']).error === undefined;
const TOKEN = 'monitoring-test-token-0123456789abcdef';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => {
        resolve(port);
      });
    });
  });

interface ScrapeJob {
  job_name: string;
  authorization: { credentials_file: string };
  static_configs: { targets: string[] }[];
}

describe.skipIf(!promtool)('Prometheus with deploy/prometheus/prometheus.yml', () => {
  let t: TestApp;
  let dir: string;
  let prometheus: ChildProcess | undefined;
  let prometheusPort: number;

  beforeAll(async () => {
    t = await createTestApp({ METRICS_TOKEN: TOKEN, ALLOWED_HOSTS: 'api.pss.example.org' });
    const apiAddress = await t.app.listen({ port: 0, host: '127.0.0.1' });
    dir = mkdtempSync(path.join(tmpdir(), 'pss-prometheus-'));
    writeFileSync(path.join(dir, 'metrics_token'), TOKEN);
    const config = parse(readFileSync('deploy/prometheus/prometheus.yml', 'utf8')) as {
      global: Record<string, string>;
      scrape_configs: ScrapeJob[];
    };
    config.global.scrape_interval = '1s';
    for (const job of config.scrape_configs) {
      expect(job.authorization.credentials_file).toBe('/run/secrets/metrics_token');
      job.authorization.credentials_file = path.join(dir, 'metrics_token');
      job.static_configs = [{ targets: [new URL(apiAddress).host] }];
    }
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify(config));
    prometheusPort = await freePort();
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${String(prometheusPort)}`,
      ],
      { stdio: 'ignore' },
    );
  });
  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is a valid configuration (promtool)', () => {
    const check = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], {
      encoding: 'utf8',
    });
    expect(check.status, check.stdout + check.stderr).toBe(0);
  });

  it('scrapes the instance by its address with the token: every target up, the dashboard’s metrics there', async () => {
    const api = (query: string) =>
      fetch(`http://127.0.0.1:${String(prometheusPort)}/api/v1/${query}`).then(
        (r) => r.json() as Promise<{ data: unknown }>,
      );
    const deadline = Date.now() + 60_000;
    let targets: { health: string; lastError: string; labels: { job: string } }[] = [];
    for (;;) {
      try {
        targets = ((await api('targets')).data as { activeTargets: typeof targets }).activeTargets;
        if (targets.length > 0 && targets.every((x) => x.health === 'up')) break;
      } catch {
        // Prometheus is still starting.
      }
      if (Date.now() > deadline) throw new Error(`targets not up: ${JSON.stringify(targets)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(targets.map((x) => x.labels.job).sort()).toEqual(['pss-api', 'pss-worker']);
    const series = (await api('query?query=http_requests_total')).data as { result: unknown[] };
    expect(series.result.length).toBeGreaterThan(0);
  });
});
