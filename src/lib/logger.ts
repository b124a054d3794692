import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Config } from '../config.js';

/**
 * The one logger of every entry point (web process, worker, CLI): level from `LOG_LEVEL`, format from
 * `LOG_FORMAT` (docs/operations.md#logs). Unset, the format is `pretty` when a person watches a terminal
 * outside production, JSON lines otherwise. Redaction runs before formatting, so it holds for both.
 */
export type LogFormat = 'json' | 'pretty';

/** SECURITY: never log credentials or tokens, whatever a log call passes in. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.token',
  '*.refresh',
  '*.access',
];

export function chooseLogFormat(
  config: Pick<Config, 'logFormat' | 'isProduction'>,
  isTerminal: boolean,
): LogFormat {
  return config.logFormat ?? (isTerminal && !config.isProduction ? 'pretty' : 'json');
}

export interface LoggerOptions {
  /** Where lines go; standard output when omitted. */
  destination?: DestinationStream | NodeJS.WritableStream;
  /** Whether that destination is a terminal; `process.stdout.isTTY` when omitted. */
  isTerminal?: boolean;
}

export function createLogger(
  config: Pick<Config, 'logLevel' | 'logFormat' | 'isProduction'>,
  opts: LoggerOptions = {},
): Logger {
  const isTerminal = opts.isTerminal ?? process.stdout.isTTY;
  const options = {
    level: config.logLevel,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  if (chooseLogFormat(config, isTerminal) === 'json') {
    return opts.destination ? pino(options, opts.destination) : pino(options);
  }
  return pino(
    options,
    pretty({
      // Synchronous, in this thread: lines are in order and none is lost at exit.
      sync: true,
      colorize: isTerminal && !opts.destination,
      translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
      ignore: 'pid,hostname',
      destination: opts.destination ?? 1,
    }),
  );
}
