import { buildApp } from './app.js';
import { createContainer } from './container.js';
import { fatal, startup } from './startup.js';
import { ensurePrivacyPolicy } from './modules/privacy/index.js';
import { bootstrapSuperuser, hasSuperuser } from './modules/users/index.js';

/** Start: read config, wire, migrate, bootstrap, listen; drain and close on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const { config, logger, errorReporter } = await startup();
  const container = await createContainer(config, { logger, errorReporter, waitForDatabaseMs: 120_000 });
  if (config.bootstrapSuperuser) {
    const outcome = await bootstrapSuperuser(container, config.bootstrapSuperuser);
    logger.info({ outcome }, 'bootstrap superuser from DJANGO_SUPERUSER_*');
  } else if (!(await hasSuperuser(container))) {
    logger.warn('no superuser yet: create one with `npm run cli -- users:create-superuser --email <e-mail>`');
  }
  logger.info({ outcome: await ensurePrivacyPolicy(container) }, 'privacy policy');
  const app = await buildApp(container, { logger, errorReporter });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    // A bound on the whole: requests and jobs get SHUTDOWN_GRACE_SECONDS, closing a little more.
    setTimeout(() => {
      logger.error('shutdown did not finish in time: exiting');
      process.exit(1);
    }, config.shutdownGraceMs + 10_000).unref();
    await app.close();
    await errorReporter.flush(2000);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  // In-process: this process runs the jobs and schedules; with a worker, it only hands work over.
  await container.jobs.start();
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.info(
    { database: container.database.kind, redis: Boolean(config.redisUrl), jobs: config.jobs.runner },
    `PSS API listening on http://${shown}:${config.port} (docs: http://${shown}:${config.port}/api/docs/)`,
  );
}

main().catch(fatal);
