import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { MigrationDriftError } from './db/migrate.js';
import { withDevSecrets } from './lib/dev-secrets.js';
import { initErrorReporting, type ErrorReporter } from './lib/error-reporting.js';
import { createLogger } from './lib/logger.js';

/**
 * What every long-running entry point (main.ts: web; worker.ts: jobs) does first: read the
 * configuration (exit 1 listing every problem), make the logger (warning about variables set but not
 * used) and the error reporter (Sentry when SENTRY_DSN is set).
 */
export async function startup(): Promise<{ config: Config; logger: Logger; errorReporter: ErrorReporter }> {
  const dev = withDevSecrets(process.env);
  let config: Config;
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
  return { config, logger, errorReporter };
}

/** Ends the process after a start failure; a refused migration is an operator's matter: no stack. */
export function fatal(err: unknown): never {
  const text =
    err instanceof MigrationDriftError
      ? err.message
      : err instanceof Error
        ? (err.stack ?? err.message)
        : String(err);
  process.stderr.write(`fatal: ${text}\n`);
  process.exit(1);
}
