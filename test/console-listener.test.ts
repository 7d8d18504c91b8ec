import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLive } from '../src/bot/console/live.ts';
import { insertConsoleMessage } from '../src/db/console-repo.ts';
import { silentLogger } from '../src/log.ts';
import { type TestDatabase, testDatabase } from './helpers/database.ts';
import { eventually } from './helpers/processes.ts';

/**
 * The console's listener on PostgreSQL when its connection dies (a server restart, a proxy
 * that drops it, an admin's pg_terminate_backend): it connects again, tells every open
 * console to reload what it may have missed, and goes on delivering.
 */
describe.runIf(process.env.DATABASE_URL)('the console listener on postgres', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await testDatabase('postgres');
  });
  afterAll(() => t?.close());

  it('reconnects after its connection is killed, sends reset, and delivers what comes next', async () => {
    const live = createConsoleLive({ database: t.database, log: silentLogger });
    const events: { event: string; data: unknown }[] = [];
    await live.start();
    live.join({ user: 'ana', send: (event, data) => events.push({ event, data }) });
    try {
      await insertConsoleMessage(t.database.db, { channel: '#ml-ops', author: 'steward', text: 'before' });
      await eventually(async () => events.some((e) => e.event === 'message'), 5000, 'the first message');

      const killed = (await t.database.db.execute(sql`
        select pg_terminate_backend(pid) as killed from pg_stat_activity
         where datname = current_database() and query ilike 'LISTEN%'`)) as unknown as {
        rows: { killed: boolean }[];
      };
      expect(killed.rows.filter((r) => r.killed)).toHaveLength(1);
      await eventually(async () => events.some((e) => e.event === 'reset'), 10_000, 'a reset after the gap');

      await insertConsoleMessage(t.database.db, { channel: '#ml-ops', author: 'steward', text: 'after' });
      await eventually(
        async () =>
          events.some((e) => e.event === 'message' && (e.data as { text?: string }).text === 'after'),
        5000,
        'the message sent after the reconnect',
      );
    } finally {
      await live.stop();
    }
    // Stopped means closed: no listener connection is left behind.
    await eventually(
      async () => {
        const left = (await t.database.db.execute(sql`
          select count(*)::int as n from pg_stat_activity
           where datname = current_database() and query ilike 'LISTEN%' and state is not null`)) as unknown as {
          rows: { n: number }[];
        };
        return left.rows[0]?.n === 0;
      },
      5000,
      'the listener connection closed',
    );
  });
});
