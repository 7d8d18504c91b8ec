import type { Logger } from '../../src/log.ts';
import { keepLog } from './suite-logs.ts';

export type LogLine = { level: string; message: string; fields?: Record<string, unknown> };

/** A logger that keeps every line, for tests that check what was said. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const line = { level, message, ...(fields ? { fields } : {}) };
    lines.push(line);
    keepLog('recording-logger', `${JSON.stringify(line)}\n`);
  };
  const logger: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return { logger, lines };
}
