import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSqlSource, type SqlSourceOptions } from '../../src/stages/data/sql.ts';
import { ingest } from '../../src/stages/pipeline/ingest.ts';
import { describeIssues, PipelineSpec } from '../../src/stages/spec.ts';
import type { StageRequest } from '../../src/stages/stage.ts';
import { createThreadExecutor, StageAbortedError } from '../../src/workflows/stage-executor.ts';
import { type TestDatabase, testDatabase } from '../helpers/database.ts';
import { stageRequest } from '../helpers/engine.ts';

const spec = (source: Record<string, unknown>) =>
  PipelineSpec.parse({
    name: 'orders',
    task: 'classification',
    source: { type: 'sql', ...source },
    target: 'returned',
    model: { type: 'logistic' },
  });
const request = (source: Record<string, unknown>) => stageRequest(spec(source));
const idle = () => ({ progress: () => {}, signal: new AbortController().signal });

describe('source.timeout in a spec', () => {
  it('defaults to 60s and takes a duration between 1s and 1h', () => {
    expect(spec({ query: 'select 1' }).source).toMatchObject({ timeout: 60_000 });
    expect(spec({ query: 'select 1', timeout: '90s' }).source).toMatchObject({ timeout: 90_000 });
    for (const timeout of ['0s', '2h', 'soon']) {
      const parsed = PipelineSpec.safeParse({
        ...spec({ query: 'select 1' }),
        source: { type: 'sql', query: 'q', timeout },
      });
      expect(parsed.success).toBe(false);
      if (!parsed.success) expect(describeIssues(parsed.error).join('\n')).toContain('source.timeout: ');
    }
  });
});

describe('a sql source on the embedded database', () => {
  it('needs source.url, and says so', async () => {
    await expect(
      readSqlSource({ query: 'select 1 as a', stewardUrl: undefined, timeoutMs: 1000, pipeline: 'orders' }),
    ).rejects.toMatchObject({
      fatal: true,
      message: expect.stringContaining('orders: a sql source needs source.url'),
    });
  });
});

describe.runIf(process.env.DATABASE_URL)('sql sources run confined (PostgreSQL)', () => {
  let h: TestDatabase;
  /** Steward's own database (migrated), reached as a superuser like a careless install would. */
  let stewardUrl: string;
  let outsiderUrl: string;
  const outsider = `steward_t_outsider_${process.pid}`;
  let admin: pg.Client;
  const sql = async (text: string, values: unknown[] = []) => (await admin.query(text, values)).rows;

  /** Runs `query` on Steward's database the way ingest does without source.url. */
  const confined = (query: string, more: Partial<SqlSourceOptions> = {}) =>
    readSqlSource({ query, stewardUrl, timeoutMs: 60_000, pipeline: 'orders', ...more });

  beforeAll(async () => {
    h = await testDatabase('postgres');
    stewardUrl = h.url as string;
    admin = new pg.Client({ connectionString: stewardUrl });
    await admin.connect();
    await sql(`create table team_orders (amount numeric, channel text, email text, returned int)`);
    await sql(
      `insert into team_orders select i + 0.5, case when i % 3 = 0 then 'web' else 'shop' end, 'u' || i || '@x.io', i % 2 from generate_series(1, 40) i`,
    );
    await sql('grant select on team_orders to steward_reader');
    await sql('create table team_secrets (token text)');
    await sql(`insert into team_secrets values ('hunter2')`);
    await sql(`insert into role_grants (user_id, role, granted_by) values ('U01', 'admin', 'local')`);
    await sql(`drop role if exists ${outsider}`);
    await sql(`create role ${outsider} login`);
    const url = new URL(stewardUrl);
    url.username = outsider;
    outsiderUrl = url.toString();
  });
  afterAll(async () => {
    await admin?.end();
    await h?.close();
    const cleanup = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await cleanup.connect();
    await cleanup.query(`drop role if exists ${outsider}`);
    await cleanup.end();
  });

  /** Calls `start` with DATABASE_URL naming Steward's test database (ingest reads it before its first await). */
  const onStewardDatabase = <T>(start: () => Promise<T>): Promise<T> => {
    const saved = process.env.DATABASE_URL;
    process.env.DATABASE_URL = stewardUrl;
    try {
      return start();
    } finally {
      process.env.DATABASE_URL = saved;
    }
  };

  /** Backends of sql sources still open on Steward's test database. */
  const sourceBackends = async () =>
    sql(
      `select pid, state, query from pg_stat_activity where datname = current_database() and application_name = 'steward sql source'`,
    );
  const untilRunning = async (text: string) => {
    for (let i = 0; i < 100; i++) {
      const rows = await sourceBackends();
      if (rows.some((r) => r.state === 'active' && String(r.query).includes(text))) return;
      await sleep(50);
    }
    throw new Error(`the query ${text} never showed up in pg_stat_activity`);
  };
  const untilGone = async (withinMs: number) => {
    const start = Date.now();
    while (Date.now() - start < withinMs) {
      if ((await sourceBackends()).length === 0) return Date.now() - start;
      await sleep(50);
    }
    return Number.POSITIVE_INFINITY;
  };

  it('refuses writes in the read-only transaction, even as a superuser, and writes nothing', async () => {
    // source.url as a superuser: nothing but the READ ONLY transaction stands in the way.
    await expect(
      ingest(request({ url: stewardUrl, query: 'create table stolen as select * from role_grants' }), idle()),
    ).rejects.toMatchObject({
      fatal: true,
      message: expect.stringContaining(
        'orders: source.query may only read: it runs in a read-only transaction',
      ),
    });
    await expect(
      ingest(
        request({
          url: stewardUrl,
          query: `insert into role_grants (user_id, role, granted_by) values ('U666', 'admin', 'spec') returning *`,
        }),
        idle(),
      ),
    ).rejects.toMatchObject({ fatal: true, message: expect.stringContaining('read-only transaction') });
    // Without source.url too.
    await expect(
      confined(
        `insert into role_grants (user_id, role, granted_by) values ('U666', 'admin', 'spec') returning *`,
      ),
    ).rejects.toMatchObject({ fatal: true });
    await expect(confined('create table stolen as select 1 as a')).rejects.toMatchObject({ fatal: true });
    expect(await sql(`select to_regclass('stolen') as t`)).toEqual([{ t: null }]);
    expect(await sql(`select user_id from role_grants order by user_id`)).toEqual([{ user_id: 'U01' }]);
  });

  it("without source.url runs as steward_reader: no server files, none of Steward's tables, only granted ones", async () => {
    await expect(confined(`select pg_read_file('/etc/passwd') as f`)).rejects.toMatchObject({
      fatal: true,
      message: expect.stringContaining('permission denied for function pg_read_file'),
    });
    await expect(confined('select * from role_grants')).rejects.toMatchObject({
      fatal: true,
      message: expect.stringMatching(
        /permission denied for table role_grants\. .*GRANT SELECT ON <table> TO steward_reader/,
      ),
    });
    await expect(confined('select * from team_secrets')).rejects.toThrow(
      'permission denied for table team_secrets',
    );
    const table = await confined('select amount, channel, returned from team_orders order by amount');
    expect(table.rowCount).toBe(40);
    expect(table.columns.map((c) => [c.name, c.type])).toEqual([
      ['amount', 'numeric'],
      ['channel', 'categorical'],
      ['returned', 'numeric'],
    ]);
  });

  it('ingest without source.url queries DATABASE_URL as steward_reader', async () => {
    const result = await onStewardDatabase(() =>
      ingest(request({ query: 'select * from team_orders order by amount' }), idle()),
    );
    expect(result).toMatchObject({ output: { rows: 40, piiRemoved: 0 } });
    await expect(
      onStewardDatabase(() => ingest(request({ query: 'select * from role_grants' }), idle())),
    ).rejects.toThrow('permission denied for table role_grants');
  });

  it('a query cannot switch back from steward_reader to Steward’s own role', async () => {
    // With SET ROLE alone this works: set_config('role', …) inside the query, then SQL run by a function.
    for (const query of [
      `select set_config('role', 'none', true) as r, query_to_xml('select * from role_grants', true, false, '') as leak`,
      `select set_config('session_authorization', 'postgres', true) as r, query_to_xml('select pg_read_file(''/etc/passwd'') as f', true, false, '') as leak`,
    ]) {
      await expect(confined(query)).rejects.toMatchObject({
        fatal: true,
        message: expect.stringContaining('orders: source.query may not change the role it runs as'),
      });
    }
  });

  it('tells a database user that may not SET ROLE steward_reader which GRANT it needs', async () => {
    await expect(confined('select 1 as a', { stewardUrl: outsiderUrl })).rejects.toMatchObject({
      fatal: true,
      message: expect.stringContaining(`GRANT steward_reader TO ${outsider};`),
    });
  });

  it('refuses a second statement with a clear message, and takes a semicolon inside a string', async () => {
    await expect(
      ingest(request({ url: stewardUrl, query: 'select 1 as a; select 2 as b' }), idle()),
    ).rejects.toMatchObject({
      fatal: true,
      message:
        'orders: source.query must be a single SQL statement (PostgreSQL refused: cannot insert multiple commands into a prepared statement)',
    });
    await expect(confined(`select 1 as a; select 'x' as b`)).rejects.toMatchObject({
      fatal: true,
      message: expect.stringContaining(
        'orders: source.query must be a single SQL statement (PostgreSQL refused:',
      ),
    });
    for (const read of [
      confined,
      (q: string) => readSqlSource({ query: q, url: stewardUrl, timeoutMs: 60_000, pipeline: 'orders' }),
    ]) {
      const table = await read(`select 'a;b' as x`);
      expect(table.columns).toMatchObject([{ name: 'x', values: ['a;b'] }]);
    }
  });

  it('keeps data values out of error messages', async () => {
    for (const read of [
      confined,
      (q: string) => readSqlSource({ query: q, url: stewardUrl, timeoutMs: 60_000, pipeline: 'orders' }),
    ]) {
      const error = await read('select email::int as e from team_orders').catch((e: Error) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toContain('invalid input syntax for type integer');
      expect((error as Error).message).not.toContain('@x.io');
    }
  });

  it('cancels a slow query on the server when the run is cancelled, and closes its connection', async () => {
    for (const url of [undefined, stewardUrl]) {
      const controller = new AbortController();
      const running = onStewardDatabase(() =>
        ingest(request({ query: 'select pg_sleep(30) as slept', ...(url ? { url } : {}) }), {
          progress: () => {},
          signal: controller.signal,
        }),
      ).catch((e: Error) => e);
      await untilRunning(url ? 'pg_sleep(30)' : 'steward_sql.read_rows');
      const abortedAt = Date.now();
      controller.abort('run cancelled');
      const error = await running;
      // pg_cancel_backend answers in milliseconds; cutting the connection instead takes 3 s.
      expect(Date.now() - abortedAt).toBeLessThan(2_000);
      expect(error).toMatchObject({ name: 'AbortError', message: 'orders: the sql query was cancelled' });
      expect((error as { fatal?: boolean }).fatal).toBeUndefined();
      expect(await untilGone(1_000)).toBeLessThan(1_000);
    }
  });

  it('stops a query that runs longer than source.timeout, naming the timeout', async () => {
    for (const query of [
      'select pg_sleep(30) as slept',
      `select set_config('statement_timeout', '0', true), pg_sleep(30) as slept`,
    ]) {
      const start = Date.now();
      await expect(ingest(request({ url: stewardUrl, query, timeout: '1s' }), idle())).rejects.toMatchObject({
        fatal: true,
        message: expect.stringContaining(
          'orders: source.query ran longer than source.timeout (1s) and was stopped',
        ),
      });
      expect(Date.now() - start).toBeLessThan(4_000);
    }
    expect(await untilGone(1_000)).toBeLessThan(1_000);
  });

  it('cancels the query on the server when the run is cancelled, through the stage’s worker thread', async () => {
    const executor = createThreadExecutor(new URL('../fixtures/ingest-only-stages.ts', import.meta.url));
    const controller = new AbortController();
    const running = executor.run(request({ url: stewardUrl, query: 'select pg_sleep(30) as slept' }), {
      onProgress: () => {},
      signal: controller.signal,
    });
    await untilRunning('pg_sleep(30)');
    controller.abort('run cancelled');
    await expect(running).rejects.toBeInstanceOf(StageAbortedError);
    // The thread hears of the abort and cancels its query (pg_cancel_backend) at once, well
    // before the thread is terminated (1 s) and the server notices the dead connection (1 s more).
    expect(await untilGone(5_000)).toBeLessThan(900);
  });
});
