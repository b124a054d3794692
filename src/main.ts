import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createContainer } from './container.js';
import { MigrationDriftError } from './db/migrate.js';
import { withDevSecrets } from './lib/dev-secrets.js';
import { initErrorReporting, reportingFailures } from './lib/error-reporting.js';
import { createLogger } from './lib/logger.js';
import { scheduledJobs } from './jobs/definitions.js';
import { createScheduler } from './jobs/scheduler.js';
import { ensurePrivacyPolicy } from './modules/privacy/index.js';
import { bootstrapSuperuser, hasSuperuser } from './modules/users/index.js';

/** Start: read config, wire, migrate, bootstrap, listen; drain and close on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  const dev = withDevSecrets(process.env);
  let config;
  try {
    config = loadConfig(dev.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const line of err.problems) process.stderr.write(`config: ${line}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config);
  for (const warning of config.warnings) logger.warn(warning);
  const errorReporter = await initErrorReporting(config, logger);
  if (dev.generated.length) {
    logger.warn(
      { file: dev.file, secrets: dev.generated },
      'development secrets were generated and are kept in the data folder; set them in the environment for production',
    );
  }
  const container = await createContainer(config, { logger, waitForDatabaseMs: 120_000 });
  if (config.bootstrapSuperuser) {
    const outcome = await bootstrapSuperuser(container, config.bootstrapSuperuser);
    logger.info({ outcome }, 'bootstrap superuser from DJANGO_SUPERUSER_*');
  } else if (!(await hasSuperuser(container))) {
    logger.warn('no superuser yet: create one with `npm run cli -- users:create-superuser --email <e-mail>`');
  }
  logger.info({ outcome: await ensurePrivacyPolicy(container) }, 'privacy policy');
  const app = await buildApp(container, { logger, errorReporter });
  const jobs = scheduledJobs(container).map((job) => reportingFailures(job, errorReporter));
  const scheduler = createScheduler(container.kv, jobs, logger, container.metrics.job);
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    await scheduler.stop();
    await app.close();
    await errorReporter.flush(2000);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen({ port: config.port, host: config.host });
  scheduler.start();
  const shown = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  logger.info(
    { database: container.database.kind, redis: Boolean(config.redisUrl) },
    `PSS API listening on http://${shown}:${config.port} (docs: http://${shown}:${config.port}/api/docs/)`,
  );
}

main().catch((err: unknown) => {
  // A refused migration is an operator's matter, not a bug: its message says what to do; no stack.
  const text =
    err instanceof MigrationDriftError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`fatal: ${text}\n`);
  process.exit(1);
});
