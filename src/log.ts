import { type DestinationStream, pino } from 'pino';
import pinoPretty from 'pino-pretty';
import { loggableError, withoutQueryText } from './db/database-error.ts';

/** The structured logger every part receives. Message first, then fields. */
export type Logger = {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
};

/** JSON lines for machines (the default), or one readable line per entry for a person at a terminal. */
export type LogFormat = 'json' | 'pretty';

const SECRET_FIELDS = ['token', 'password', 'secret', 'authorization'];
/** Secret fields are redacted at the top level of a log entry and one level down. */
const REDACT = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`), 'headers.authorization'];

export type LoggerOptions = {
  level?: string;
  /** Where lines go (tests). When set, the format is JSON unless `format` says otherwise. @default stderr */
  destination?: DestinationStream;
  /** @default logFormat(process.env, stderr is a TTY) */
  format?: LogFormat;
};

export function createLogger(options: LoggerOptions = {}): Logger {
  const format =
    options.format ?? (options.destination ? 'json' : logFormat(process.env, Boolean(process.stderr.isTTY)));
  const destination =
    format === 'pretty'
      ? pinoPretty({
          translateTime: 'HH:MM:ss',
          ignore: 'pid,hostname',
          singleLine: true,
          // Synchronous, like pino.destination(2): a line is written before the process can die.
          sync: true,
          ...(options.destination ? { destination: options.destination } : { destination: 2 }),
        })
      : (options.destination ?? pino.destination(2));
  // The same redaction applies in both formats: pretty printing reads pino's redacted output.
  return wrap(pino({ level: options.level ?? 'info', redact: REDACT }, destination));
}

/**
 * How logs are written: `STEWARD_LOG_FORMAT=json|pretty` when set; otherwise pretty only
 * for a person at a terminal (stderr is a TTY) and never under CI or `NODE_ENV=test`,
 * whose output is read by programs.
 */
export function logFormat(env: NodeJS.ProcessEnv, stderrIsTty: boolean): LogFormat {
  const chosen = env.STEWARD_LOG_FORMAT?.trim().toLowerCase();
  if (chosen === 'json' || chosen === 'pretty') return chosen;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI.toLowerCase() !== 'false';
  if (ci || env.NODE_ENV === 'test') return 'json';
  return stderrIsTty ? 'pretty' : 'json';
}

function wrap(p: pino.Logger): Logger {
  return {
    debug: (message, fields) => p.debug(safeFields(fields), message),
    info: (message, fields) => p.info(safeFields(fields), message),
    warn: (message, fields) => p.warn(safeFields(fields), message),
    error: (message, fields) => p.error(safeFields(fields), message),
    child: (fields) => wrap(p.child(safeFields(fields))),
  };
}

/**
 * Fields as they may be written: an error (at the top level or one level down) becomes its
 * loggable text, and text that quotes a failed query loses the query and its parameters.
 * Serialised as it is, a database error would carry both (they may hold whole datasets).
 */
export function safeFields(fields: Record<string, unknown> | undefined, depth = 1): Record<string, unknown> {
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields ?? {})) safe[key] = safeValue(value, depth);
  return safe;
}

function safeValue(value: unknown, depth: number): unknown {
  if (value instanceof Error) return loggableError(value);
  if (typeof value === 'string') return withoutQueryText(value);
  if (depth > 0 && typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) return value.map((item) => safeValue(item, depth - 1));
    if (Object.getPrototypeOf(value) === Object.prototype) {
      return safeFields(value as Record<string, unknown>, depth - 1);
    }
  }
  return value;
}

/** A logger that drops everything, for tests and benches. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
