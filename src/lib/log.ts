/**
 * What services need of a logger (pino's Logger satisfies it). Services take this rather than pino's
 * type, so they do not depend on the logging library. PRIVACY: never pass sensitive values.
 */
export interface Log {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
