import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../src/config.js';

/**
 * The deployment files (docs/operations.md#deployment) as a reader relies on them. Docker is not
 * available in CI, so nothing here starts a container: the compose file, the Render blueprint, the
 * Dockerfile and the nginx example are read and their topology and settings checked against the
 * code (config.ts's variables, the health routes, the build's entry points). nginx itself checks
 * the nginx example when it is installed.
 */
const repo = path.resolve(import.meta.dirname, '..');
const read = (file: string) => readFileSync(path.join(repo, file), 'utf8');

/** Every variable config.ts's schema reads. */
const configSource = read('src/config.ts');
const schemaBlock = configSource.slice(
  configSource.indexOf('const envSchema = z.object({'),
  configSource.indexOf('\n});', configSource.indexOf('const envSchema = z.object({')),
);
const SCHEMA_VARS = new Set([...schemaBlock.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1]!));
const known = (name: string) => SCHEMA_VARS.has(name);
/** The secrets config.ts refuses to start without in production. */
const PRODUCTION_SECRETS = [
  ...configSource.matchAll(/problems\.push\('([A-Z_]+): required in production'\)/g),
].map((m) => m[1]!);

type Env = Record<string, string>;
interface ComposeService {
  image?: string;
  ports?: string[];
  secrets?: string[];
  stop_grace_period?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Env;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  volumes?: string[];
}

const compose = parse(read('deploy/compose.yaml'), { merge: true }) as {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { environment?: string; file?: string }>;
};
const services = compose.services;
const envExample = Object.fromEntries(
  read('deploy/.env.example')
    .split('\n')
    .filter((line) => /^[A-Z_]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/** Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` with the values of an env file. */
function interpolate(text: string, values: Env): string {
  return text.replace(
    /\$\{([A-Z_][A-Z0-9_]*)(?::?([-?])([^}]*))?\}/g,
    (_m, name: string, op?: string, arg?: string) => {
      const value = values[name];
      if (value !== undefined && value !== '') return value;
      if (op === '?') throw new Error(`compose would refuse to start: ${name} (${arg ?? ''})`);
      return op === '-' ? (arg ?? '') : '';
    },
  );
}
const interpolated = (env: Env, values: Env): Env =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, values)]));

/** What an operator puts in deploy/.env: the example, with every empty secret generated. */
function operatorEnv(): Env {
  return {
    ...envExample,
    POSTGRES_PASSWORD: randomBytes(24).toString('hex'),
    SECRET_KEY: randomBytes(48).toString('base64url'),
    FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
    METRICS_TOKEN: randomBytes(32).toString('hex'),
    GRAFANA_ADMIN_PASSWORD: randomBytes(16).toString('hex'),
  };
}
/** The configuration's defaults (development secrets aside). */
const testConfigDefaults = () =>
  loadConfig({
    SECRET_KEY: randomBytes(48).toString('base64url'),
    FIELD_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    BLIND_INDEX_KEY: randomBytes(32).toString('base64'),
  });

const APP_SERVICES = ['api-1', 'api-2', 'worker', 'migrate'];
const hostOf = (url: string) => new URL(url).hostname;

describe('deploy/compose.yaml', () => {
  it('runs two API instances from the built image behind the proxy, whose upstream lists both', () => {
    for (const name of ['api-1', 'api-2']) {
      const api = services[name]!;
      expect(api.build).toMatchObject({ context: '..', dockerfile: 'Dockerfile' });
      expect(api.command).toEqual(['node', 'dist/src/main.js']);
      expect(api.environment?.PORT).toBe('8000');
      expect(Object.keys(services.proxy!.depends_on ?? {})).toContain(name);
    }
    const mounted = services.proxy!.volumes!.find((v) => v.includes('/etc/nginx/conf.d/'))!;
    expect(mounted.split(':')[0]).toBe('./nginx/pss-api.conf');
    const upstream = /upstream pss_api \{([^}]*)\}/.exec(read('deploy/nginx/pss-api.conf'))![1]!;
    const servers = [...upstream.matchAll(/^\s*server\s+(\S+?)[\s;]/gm)].map((m) => m[1]);
    expect(servers).toEqual(['api-1:8000', 'api-2:8000']);
  });

  it('runs the worker from the same image, health-checked on its own port', () => {
    const worker = services.worker!;
    expect(worker.build).toEqual(services['api-1']!.build);
    expect(worker.command).toEqual(['node', 'dist/src/worker.js']);
    const port = worker.environment!.WORKER_PORT!;
    expect(worker.healthcheck!.test!.join(' ')).toContain(`http://127.0.0.1:${port}/health/live/`);
  });

  it('migrates once, straight to PostgreSQL, before the instances and the worker start', () => {
    expect(services.migrate!.command).toEqual(['node', 'dist/src/cli.js', 'db:migrate']);
    for (const name of ['api-1', 'api-2', 'worker']) {
      expect(services[name]!.depends_on?.migrate).toEqual({ condition: 'service_completed_successfully' });
    }
  });

  it('sends the API and the worker through PgBouncer in transaction mode, migrations to PostgreSQL', () => {
    const bouncer = services.pgbouncer!;
    expect(bouncer.environment).toMatchObject({
      POOL_MODE: 'transaction',
      DB_HOST: 'postgres',
      DB_NAME: 'pss',
    });
    const values = operatorEnv();
    for (const name of APP_SERVICES) {
      const env = interpolated(services[name]!.environment!, values);
      expect(hostOf(env.DATABASE_URL!), name).toBe('pgbouncer');
      expect(hostOf(env.DIRECT_DATABASE_URL!), name).toBe('postgres');
      expect(hostOf(env.REDIS_URL!), name).toBe('redis');
    }
    const major = Number(/^postgres:(\d+)/.exec(services.postgres!.image!)![1]);
    expect(major).toBeGreaterThanOrEqual(15);
  });

  it('keeps Redis on disk (append-only file on a volume)', () => {
    const redis = services.redis!;
    expect(redis.command!.join(' ')).toMatch(/--appendonly yes/);
    expect(redis.command!.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    expect(redis.volumes!.some((v) => v.endsWith(':/data'))).toBe(true);
  });

  it('sets only variables the service reads, and every production secret, required from deploy/.env', () => {
    for (const name of APP_SERVICES) {
      const env = services[name]!.environment!;
      expect(
        Object.keys(env).filter((k) => !known(k)),
        name,
      ).toEqual([]);
      expect(PRODUCTION_SECRETS.length).toBeGreaterThan(0);
      for (const secret of PRODUCTION_SECRETS)
        expect(env[secret], `${name} ${secret}`).toMatch(/^\$\{[A-Z_]+:\?/);
    }
  });

  it('gives the API and the worker time to finish on SIGTERM before Docker kills them', () => {
    const grace = testConfigDefaults().shutdownGraceMs / 1000;
    for (const name of ['api-1', 'api-2', 'worker']) {
      const period = /^(\d+)s$/.exec(services[name]!.stop_grace_period ?? '')?.[1];
      expect(Number(period), name).toBeGreaterThanOrEqual(grace + 10);
    }
  });

  it('keeps the worker’s key backups on a volume of their own, writable by the image’s user', () => {
    const worker = services.worker!;
    const config = loadConfig(interpolated(worker.environment!, operatorEnv()));
    expect(config.keyBackup.dir).toBe('/var/lib/pss/key-backups');
    expect(config.keyBackup.retentionDays).toBe(35);
    expect(worker.volumes).toContain(`key-backups:${config.keyBackup.dir}`);
    const runtime = read('Dockerfile')
      .split(/^FROM /m)
      .at(-1)!;
    const user = /^USER (\S+)/m.exec(runtime)![1]!;
    expect(runtime).toContain(`mkdir -p ${config.keyBackup.dir}`);
    expect(runtime).toMatch(new RegExp(`chown -R ${user}:${user} /var/lib/pss`));
  });

  it('monitors every API instance and the worker: Prometheus scrapes them with METRICS_TOKEN', () => {
    const prometheus = services.prometheus!;
    const mounted = prometheus.volumes!.find((v) => v.endsWith(':/etc/prometheus/prometheus.yml:ro'))!;
    const scrape = parse(read(path.join('deploy', mounted.split(':')[0]!))) as {
      scrape_configs: {
        metrics_path: string;
        authorization: { type: string; credentials_file: string };
        static_configs: { targets: string[] }[];
      }[];
    };
    const targets = scrape.scrape_configs.flatMap((job) => {
      expect(job.metrics_path).toBe('/metrics');
      expect(job.authorization.type).toBe('Bearer');
      const secret = /^\/run\/secrets\/(.+)$/.exec(job.authorization.credentials_file)![1]!;
      expect(prometheus.secrets).toContain(secret);
      expect(compose.secrets?.[secret]).toEqual({ environment: 'METRICS_TOKEN' });
      return job.static_configs.flatMap((s) => s.targets);
    });
    const values = operatorEnv();
    const expected = ['api-1', 'api-2', 'worker'].map((name) => {
      const env = interpolated(services[name]!.environment!, values);
      expect(env.METRICS_TOKEN, name).toBe(values.METRICS_TOKEN);
      return `${name}:${name === 'worker' ? env.WORKER_PORT! : env.PORT!}`;
    });
    expect(targets.sort()).toEqual(expected.sort());
    expect(services['api-1']!.environment!.METRICS_TOKEN).toMatch(/^\$\{METRICS_TOKEN:\?/);
  });

  it('provisions Grafana with Prometheus and the dashboard, reachable from the host only', () => {
    const grafana = services.grafana!;
    expect(grafana.ports!.every((p) => p.startsWith('127.0.0.1:'))).toBe(true);
    expect(grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    const provisioning = grafana.volumes!.find((v) => v.endsWith(':/etc/grafana/provisioning:ro'))!;
    const dir = path.join('deploy', provisioning.split(':')[0]!);
    const sources = parse(read(path.join(dir, 'datasources/prometheus.yaml'))) as {
      datasources: { type: string; url: string }[];
    };
    expect(sources.datasources).toEqual([
      expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' }),
    ]);
    const providers = parse(read(path.join(dir, 'dashboards/pss.yaml'))) as {
      providers: { type: string; options: { path: string } }[];
    };
    const dashboardMount = grafana.volumes!.find((v) => v.startsWith('./grafana/pss-api-dashboard.json:'))!;
    expect(path.posix.dirname(dashboardMount.split(':')[1]!)).toBe(providers.providers[0]!.options.path);
    // Provisioned files skip the import dialog: the dashboard's data source is its own variable.
    const dashboard = JSON.parse(read('deploy/grafana/pss-api-dashboard.json')) as {
      templating: { list: { name: string; type: string; query: string }[] };
      panels: { datasource?: { uid: string } }[];
    };
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', query: 'prometheus' }),
    );
    for (const panel of dashboard.panels)
      if (panel.datasource) expect(panel.datasource.uid).toBe('${DS_PROMETHEUS}');
  });

  it('starts in production with deploy/.env.example filled in, and refuses to start without a secret', () => {
    const text = read('deploy/compose.yaml');
    for (const [, name] of text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g))
      expect(envExample, name).toHaveProperty(name!);
    for (const line of read('deploy/.env.example')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))) {
      expect(text, line).toContain(`\${${line.slice(0, line.indexOf('='))}`);
    }
    const values = operatorEnv();
    for (const name of APP_SERVICES) {
      const config = loadConfig(interpolated(services[name]!.environment!, values));
      expect(config.isProduction).toBe(true);
      expect(config.host).toBe('0.0.0.0');
      expect(config.redisUrl).toBeDefined();
    }
    const { SECRET_KEY: _dropped, ...withoutSecret } = values;
    expect(() => interpolated(services['api-1']!.environment!, withoutSecret)).toThrow(/SECRET_KEY/);
  });
});

interface RenderEnvVar {
  key?: string;
  value?: string;
  sync?: boolean;
  generateValue?: boolean;
  fromDatabase?: { name: string; property: string };
  fromService?: { type: string; name: string; property?: string; envVarKey?: string };
}
interface RenderService {
  type: string;
  name: string;
  buildCommand?: string;
  startCommand?: string;
  preDeployCommand?: string;
  healthCheckPath?: string;
  numInstances?: number;
  maxmemoryPolicy?: string;
  envVars?: RenderEnvVar[];
}
const render = parse(read('render.yaml')) as { services: RenderService[]; databases: { name: string }[] };

describe('render.yaml', () => {
  const byType = (type: string) => render.services.filter((s) => s.type === type);
  const [web] = byType('web');
  const [worker] = byType('worker');
  const [keyValue] = byType('keyvalue');
  const envOf = (service: RenderService) => new Map((service.envVars ?? []).map((e) => [e.key!, e]));

  it('has the API, the worker, Key Value and PostgreSQL, built once and run from dist/', () => {
    expect([web, worker, keyValue].every(Boolean)).toBe(true);
    expect(render.databases).toHaveLength(1);
    for (const service of [web!, worker!]) {
      expect(service.buildCommand).toMatch(/npm ci\b.*&& npm run build && npm prune --omit=dev$/);
    }
    expect(web!.startCommand).toBe('node dist/src/main.js');
    expect(web!.preDeployCommand).toBe('node dist/src/cli.js db:migrate');
    expect(web!.numInstances).toBeGreaterThanOrEqual(2);
    expect(worker!.startCommand).toBe('node dist/src/worker.js');
    expect(keyValue!.maxmemoryPolicy).toBe('noeviction');
    expect(read('src/modules/health/routes.ts')).toContain(`'${web!.healthCheckPath!}'`);
  });

  it('wires the database and Key Value into both processes', () => {
    for (const service of [web!, worker!]) {
      const env = envOf(service);
      expect(env.get('DATABASE_URL')!.fromDatabase).toEqual({
        name: render.databases[0]!.name,
        property: 'connectionString',
      });
      expect(env.get('REDIS_URL')!.fromService).toMatchObject({ type: 'keyvalue', name: keyValue!.name });
      expect(env.get('APP_ENV')!.value).toBe('production');
    }
  });

  it('sets only variables the service reads; the secrets are entered or generated once and shared', () => {
    const webEnv = envOf(web!);
    const workerEnv = envOf(worker!);
    for (const service of [web!, worker!]) {
      expect(
        [...envOf(service).keys()].filter((k) => !known(k)),
        service.name,
      ).toEqual([]);
    }
    for (const secret of PRODUCTION_SECRETS) {
      const own = webEnv.get(secret);
      expect(own?.sync === false || own?.generateValue === true, secret).toBe(true);
      expect(workerEnv.get(secret)?.fromService, secret).toEqual({
        type: 'web',
        name: web!.name,
        envVarKey: secret,
      });
    }
    for (const entry of worker!.envVars!.filter((e) => e.fromService?.envVarKey)) {
      expect(webEnv.has(entry.fromService!.envVarKey!), entry.key).toBe(true);
    }
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');
  const stages = text.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('builds in one stage and runs production dependencies and dist/ in another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]).toMatch(/RUN npm run build/);
    expect(runtime).toMatch(/RUN npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=\S+ \/app\/dist \.\/dist/);
    expect(runtime).not.toMatch(/COPY (src|\.) /);
  });

  it('copies into the build stage every file `npm run build` reads (CI builds from exactly these)', () => {
    const copied = [...stages[0]!.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) =>
      m[1]!.split(/\s+/).slice(0, -1),
    );
    const script = (JSON.parse(read('package.json')) as { scripts: { build: string } }).scripts.build;
    const inputs = [...script.matchAll(/(?:-p|--config|node)\s+(\S+)/g)].map((m) => m[1]!);
    expect(inputs).toEqual(
      expect.arrayContaining([
        'tsconfig.build.json',
        'scripts/copy-run-time-files.mjs',
        'web/admin/vite.config.ts',
      ]),
    );
    for (const input of [...inputs, 'src', 'migrations'])
      expect(
        copied.some((c) => input === c || input.startsWith(`${c}/`)),
        input,
      ).toBe(true);
  });

  it('runs as a user other than root, with a health check on a route the service has', () => {
    const user = /^USER (\S+)/m.exec(runtime)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    const healthcheck = /^HEALTHCHECK [^]*?CMD (.*)$/m.exec(runtime)?.[1];
    const route = /\/health\/[a-z/]*/.exec(healthcheck ?? '')?.[0];
    expect(read('src/modules/health/routes.ts')).toContain(`'${route}'`);
    expect(/^CMD (.*)$/m.exec(runtime.replace(/^HEALTHCHECK[^]*?CMD .*$/m, ''))?.[1]).toBe(
      '["node", "dist/src/main.js"]',
    );
  });
});

describe('deploy/nginx/pss-api.conf', () => {
  const text = read('deploy/nginx/pss-api.conf');

  it('terminates TLS and forwards the client address the way TRUSTED_PROXIES expects', () => {
    expect(text).toMatch(/listen 443 ssl/);
    expect(text).toMatch(/ssl_certificate\s+\S+;/);
    expect(text).toMatch(/ssl_certificate_key\s+\S+;/);
    // The service takes the first X-Forwarded-For entry from a trusted proxy: replaced, never appended.
    expect(text).toMatch(/proxy_set_header X-Forwarded-For \$remote_addr;/);
    expect(text).not.toMatch(/^\s*proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for/m);
    expect(text).toMatch(/proxy_set_header X-Forwarded-Proto \$scheme;/);
  });

  const nginx = spawnSync('nginx', ['-v']).error === undefined;
  it.skipIf(!nginx)('is accepted by nginx -t (with a throwaway certificate and local upstreams)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pss-nginx-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=localhost',
          '-keyout',
          path.join(dir, 'privkey.pem'),
          '-out',
          path.join(dir, 'fullchain.pem'),
        ],
        { stdio: 'ignore' },
      );
      // Compose's service names resolve only inside compose; nginx -t resolves upstreams at load.
      writeFileSync(
        path.join(dir, 'site.conf'),
        text.replaceAll('/etc/nginx/certs/', `${dir}/`).replace(/api-\d:8000/g, '127.0.0.1:8000'),
      );
      writeFileSync(
        path.join(dir, 'nginx.conf'),
        `pid ${dir}/nginx.pid;\nerror_log stderr;\nevents {}\nhttp { include ${dir}/site.conf; }\n`,
      );
      const result = spawnSync(
        'nginx',
        ['-t', '-p', dir, '-e', 'stderr', '-c', path.join(dir, 'nginx.conf')],
        {
          encoding: 'utf8',
        },
      );
      expect(result.stderr).toContain('test is successful');
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
