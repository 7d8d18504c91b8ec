import { type DestinationStream, pino } from 'pino';

/** The structured logger every part receives. Message first, then fields. */
export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
};

const REDACT = ['*.token', '*.password', '*.secret', '*.authorization', 'headers.authorization'];

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  const base = pino(
    { level: options.level ?? 'info', redact: REDACT },
    options.destination ?? pino.destination(2),
  );
  return wrap(base);
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (message, fields) => p.debug(fields ?? {}, message),
    info: (message, fields) => p.info(fields ?? {}, message),
    warn: (message, fields) => p.warn(fields ?? {}, message),
    error: (message, fields) => p.error(fields ?? {}, message),
    child: (fields) => wrap(p.child(fields)),
  };
}

/** A logger that drops everything, for tests and benches. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
