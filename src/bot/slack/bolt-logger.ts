import { format } from 'node:util';
import { type Logger as BoltLogger, LogLevel } from '@slack/bolt';
import type { Logger } from '../../log.ts';

const LEVELS: Record<LogLevel, { rank: number; method: 'debug' | 'info' | 'warn' | 'error' }> = {
  [LogLevel.DEBUG]: { rank: 10, method: 'debug' },
  [LogLevel.INFO]: { rank: 20, method: 'info' },
  [LogLevel.WARN]: { rank: 30, method: 'warn' },
  [LogLevel.ERROR]: { rank: 40, method: 'error' },
};

/**
 * Bolt's Logger interface over Steward's logger, so Bolt, its receiver and its Web API
 * client write into the same structured stream instead of plain `[ERROR]` lines on the
 * console. Bolt logs variadic arguments: strings become the message, an Error's stack goes
 * in the `error` field. Bolt's own level filter applies first (Bolt calls `setLevel`), then
 * Steward's.
 */
export function createBoltLogger(log: Logger, level: LogLevel = LogLevel.WARN): BoltLogger {
  let current = level;
  let name = 'bolt';
  const emit = (at: LogLevel, args: unknown[]) => {
    if (LEVELS[at].rank < LEVELS[current].rank) return;
    const errors = args.filter((a): a is Error => a instanceof Error);
    const rest = args.filter((a) => !(a instanceof Error));
    const message = rest.length > 0 ? format(...rest) : (errors[0]?.message ?? '');
    const fields: Record<string, unknown> = { source: name };
    if (errors.length > 0) fields.error = errors.map((e) => e.stack ?? e.message).join('\n');
    log[LEVELS[at].method](message, fields);
  };
  return {
    debug: (...args: unknown[]) => emit(LogLevel.DEBUG, args),
    info: (...args: unknown[]) => emit(LogLevel.INFO, args),
    warn: (...args: unknown[]) => emit(LogLevel.WARN, args),
    error: (...args: unknown[]) => emit(LogLevel.ERROR, args),
    setLevel(next) {
      current = next;
    },
    getLevel: () => current,
    setName(next) {
      name = next;
    },
  };
}
