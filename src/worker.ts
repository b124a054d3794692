import { createServer } from 'node:http';
import { createContainer } from './container.js';
import { metricsAuthorized } from './plugins/metrics.js';
import { fatal, startup } from './startup.js';

/**
 * The background worker (`npm run worker`; `node dist/src/worker.js` in production): runs every job
 * from the BullMQ queue in Redis and the clock schedules (docs/operations.md#background-jobs). It serves
 * only its health and metrics on WORKER_PORT. SIGTERM: stop taking jobs, let running ones finish within
 * SHUTDOWN_GRACE_SECONDS (a job still running then is run again by another worker), close, exit.
 */
async function main(): Promise<void> {
  const { config, logger, errorReporter } = await startup();
  if (config.jobs.runner !== 'worker' || !config.redisUrl) {
    process.stderr.write(
      'config: the worker runs jobs from a Redis queue: set REDIS_URL (and leave JOB_RUNNER unset or "worker"). ' +
        'Without Redis the web process (npm start) runs every job itself.\n',
    );
    process.exit(1);
  }
  const container = await createContainer(config, {
    logger,
    errorReporter,
    waitForDatabaseMs: 120_000,
    jobRole: 'worker',
  });
  const probes = async () => {
    await container.database.ping();
    await container.redis?.ping();
  };
  const server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      send(405, '{"detail":"Method not allowed."}');
      return;
    }
    if (path === '/health/live/') {
      send(200, '{"status":"ok"}');
      return;
    }
    if (path === '/health/ready/') {
      probes().then(
        () => {
          send(200, '{"status":"ok"}');
        },
        () => {
          send(503, '{"status":"unavailable"}');
        },
      );
      return;
    }
    if (path === '/metrics') {
      // The same token as the API's /metrics (METRICS_TOKEN), when one is set.
      if (!metricsAuthorized(req.headers.authorization, config.metricsToken)) {
        res.setHeader('www-authenticate', 'Bearer realm="metrics"');
        send(401, '{"detail":"Authentication required"}');
        return;
      }
      container.metrics.registry.metrics().then(
        (text) => {
          send(200, text, container.metrics.registry.contentType);
        },
        () => {
          send(500, '{"detail":"metrics unavailable"}');
        },
      );
      return;
    }
    send(404, '{"detail":"Not found."}');
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'worker shutting down: running jobs finish, no new ones start');
    setTimeout(() => {
      logger.error('worker shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 10_000).unref();
    server.close();
    await container.close();
    await errorReporter.flush(2000);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await new Promise<void>((resolve) => server.listen(config.jobs.workerPort, config.host, resolve));
  await container.jobs.start();
  logger.info(
    { concurrency: config.jobs.concurrency, port: config.jobs.workerPort },
    'PSS worker running background jobs (health and metrics on its port)',
  );
}

main().catch(fatal);
