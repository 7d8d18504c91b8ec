import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { App, LogLevel } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createBoltLogger } from '../src/bot/bolt-logger.ts';
import { createLogger, logFormat } from '../src/log.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}
const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('logFormat', () => {
  it.each<[NodeJS.ProcessEnv, boolean, 'json' | 'pretty']>([
    [{}, true, 'pretty'],
    [{}, false, 'json'],
    [{ CI: 'true' }, true, 'json'],
    [{ CI: '1' }, true, 'json'],
    [{ CI: 'false' }, true, 'pretty'],
    [{ CI: '' }, true, 'pretty'],
    [{ NODE_ENV: 'test' }, true, 'json'],
    [{ NODE_ENV: 'production' }, true, 'pretty'],
    [{ STEWARD_LOG_FORMAT: 'json' }, true, 'json'],
    [{ STEWARD_LOG_FORMAT: 'pretty' }, false, 'pretty'],
    [{ STEWARD_LOG_FORMAT: 'Pretty', CI: 'true' }, false, 'pretty'],
    [{ STEWARD_LOG_FORMAT: 'yaml' }, false, 'json'],
  ])('%j with a TTY: %s → %s', (env, tty, expected) => {
    expect(logFormat(env, tty)).toBe(expected);
  });
});

describe('createLogger', () => {
  it('writes one JSON line per entry, with secrets redacted', () => {
    const { lines, destination } = capture();
    createLogger({ destination }).info('slack call', { request: { token: 'xoxb-secret' }, run: 3 });
    expect(parsed(lines)).toEqual([
      expect.objectContaining({ level: 30, msg: 'slack call', run: 3, request: { token: '[Redacted]' } }),
    ]);
  });

  it('writes one readable line per entry in the pretty format, redacted too', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ destination, format: 'pretty' }).child({ part: 'slack' });
    log.warn('slack call failed', { request: { token: 'xoxb-secret' }, attempt: 2 });
    const text = stripVTControlCharacters(lines.join(''));
    expect(text).toMatch(/^\[\d\d:\d\d:\d\d\] WARN: slack call failed \{.*\}\n$/);
    expect(text).toContain('"part":"slack"');
    expect(text).toContain('"attempt":2');
    expect(text).not.toContain('xoxb-secret');
    expect(text).not.toMatch(/"pid"|"hostname"/);
  });
});

describe('Bolt through Steward’s logger', () => {
  it('sends Bolt’s own errors, with their stack, into the structured stream', async () => {
    const { lines, destination } = capture();
    const logger = createBoltLogger(createLogger({ destination }).child({ part: 'bolt' }));
    const app = new App({
      token: 'xoxb-test',
      signingSecret: 'secret',
      logger,
      logLevel: LogLevel.WARN,
      tokenVerificationEnabled: false,
      botId: 'B1',
      botUserId: 'U1',
    });
    // Bolt logs this itself (an action listener with a constraint it does not know).
    app.action({ action_id: 'x', colour: 'red' } as never, async () => {});
    logger.error('Slack API error: boom', new Error('boom'));
    logger.info('below the level: dropped');
    const entries = parsed(lines);
    expect(entries).toEqual([
      expect.objectContaining({
        level: 50,
        part: 'bolt',
        msg: 'Action listener cannot be attached using unknown constraint keys: colour',
      }),
      expect.objectContaining({ level: 50, part: 'bolt', msg: 'Slack API error: boom' }),
    ]);
    expect(String(entries[1]?.error)).toMatch(/^Error: boom\n\s+at /);
    expect(logger.getLevel()).toBe(LogLevel.WARN);
  });
});
