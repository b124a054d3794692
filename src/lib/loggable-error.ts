/**
 * PRIVACY: driver errors carry the failed query's parameters (e-mail addresses, ciphertexts); the log
 * keeps the error's kind, code, constraint and the message without them, plus the stack.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  const e = error as {
    name?: string;
    message?: string;
    code?: string;
    constraint?: string;
    stack?: string;
    cause?: unknown;
  };
  const strip = (text: string | undefined) => (text ?? '').split(/\nparams:/)[0]?.slice(0, 2000);
  const cause = e.cause as { code?: string; constraint?: string; message?: string } | undefined;
  return {
    type: e.name,
    message: strip(e.message),
    code: e.code ?? cause?.code,
    constraint: e.constraint ?? cause?.constraint,
    cause: cause?.message ? strip(cause.message) : undefined,
    stack: (e.stack ?? '')
      .split('\n')
      .filter((l) => l.trimStart().startsWith('at '))
      .slice(0, 12)
      .join('\n'),
  };
}
