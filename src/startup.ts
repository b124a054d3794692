import pino, { type Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { MigrationDriftError } from './db/migrate.js';
import { withDevSecrets } from './lib/dev-secrets.js';

/**
 * What every long-running entry point (main.ts: web; worker.ts: jobs) does first: read the
 * configuration (exit 1 listing every problem) and make the logger.
 */
export function startup(): { config: Config; logger: Logger } {
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
  const logger = pino({
    level: config.logLevel,
    // SECURITY: never log credentials or tokens, whatever a log call passes in.
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        '*.password',
        '*.token',
        '*.refresh',
        '*.access',
      ],
      censor: '[redacted]',
    },
  });
  if (dev.generated.length) {
    logger.warn(
      { file: dev.file, secrets: dev.generated },
      'development secrets were generated and are kept in the data folder; set them in the environment for production',
    );
  }
  return { config, logger };
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
