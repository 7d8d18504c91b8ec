import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { App, LogLevel } from '@slack/bolt';
import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createBoltLogger } from '../src/bot/slack/bolt-logger.ts';
import { loggableError } from '../src/db/database-error.ts';
import { datasets } from '../src/db/schema.ts';
import { createLogger, logFormat } from '../src/log.ts';
import { testDatabase } from './helpers/database.ts';

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

describe('database errors in logs', () => {
  it('are logged by PostgreSQL’s message and code: never the query, its parameters or the data', async () => {
    const t = await testDatabase('pglite');
    let failure: unknown;
    try {
      // What a dataset insert sends: the rows (gzipped in real life) and a profile with a NUL byte.
      await t.database.db.insert(datasets).values({
        hash: 'h1',
        pipeline: 'demo',
        source: { type: 'csv', file: 'customers.csv' },
        rowCount: 1,
        columns: [],
        profile: { top: 'alice@example.com\u0000' },
        content: Buffer.from('email\nalice@example.com\n'),
      });
    } catch (error) {
      failure = error;
    } finally {
      await t.close();
    }
    expect(failure).toBeInstanceOf(DrizzleQueryError);
    expect(String((failure as Error).message)).toContain('alice@example.com'); // what must not leak
    const { lines, destination } = capture();
    const log = createLogger({ destination }).child({ runId: 'r1' });
    const error = failure as Error;
    log.error('stage attempt could not report its outcome', { error });
    log.warn('as text', { error: error.message, stack: error.stack });
    log.warn('one level down', { outcome: { error }, errors: [error] });
    log.child({ last: error }).info('in a child');
    const text = lines.join('');
    expect(text).not.toContain('alice@example.com');
    expect(text).not.toMatch(/params|insert into|customers\.csv/i);
    const entries = parsed(lines);
    expect(entries[0]?.error).toBe('unsupported Unicode escape sequence (SQLSTATE 22P05)');
    expect(entries[1]?.error).toBe('a database query failed (its text and parameters are not shown)');
    expect(entries[2]).toMatchObject({
      outcome: { error: 'unsupported Unicode escape sequence (SQLSTATE 22P05)' },
      errors: ['unsupported Unicode escape sequence (SQLSTATE 22P05)'],
    });
    expect(entries[3]?.last).toBe('unsupported Unicode escape sequence (SQLSTATE 22P05)');
  });

  it('give a failed query without a PostgreSQL error by its cause, and keep other errors as they are', () => {
    const lost = new DrizzleQueryError(
      'insert into "datasets" values ($1)',
      ['secret-row'],
      new Error('Connection terminated'),
    );
    expect(loggableError(lost)).toBe('a database query failed: Connection terminated');
    expect(loggableError(new Error('slack said no'))).toBe('slack said no');
    expect(loggableError('plain')).toBe('plain');
  });
});
