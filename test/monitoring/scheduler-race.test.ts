import fs from 'node:fs';
import path from 'node:path';
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { alertEvents, driftAlerts, driftReports } from '../../src/db/schema.ts';
import { type TestDatabase, testDatabase } from '../helpers/database.ts';
import { deployChurnModel, logPredictions } from '../helpers/monitoring.ts';
import { eventually, type Proc, processEnv, spawnSteward } from '../helpers/processes.ts';

const PIPELINE = 'churn';
const TICKS = 4;

/**
 * Two `steward worker` processes on one PostgreSQL, both firing the same every-second
 * schedule: each tick is queued once, checked once, and the drift it finds pages once.
 */
describe.runIf(process.env.DATABASE_URL)('two schedulers on one PostgreSQL', () => {
  let t: TestDatabase;
  let procs: Proc[] = [];
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const proc = await processEnv('pglite', { STEWARD_LOG_LEVEL: 'debug', STEWARD_LOG_FORMAT: 'json' });
    cleanup = proc.cleanup;
    t = await testDatabase('postgres');
    const pipelines = path.join(proc.dir, 'pipelines');
    fs.mkdirSync(pipelines);
    fs.writeFileSync(
      path.join(pipelines, `${PIPELINE}.yaml`),
      YAML.stringify({
        name: PIPELINE,
        task: 'classification',
        source: { type: 'synthetic', generator: 'churn' },
        target: 'churned',
        features: { pii: ['customer_id', 'email'] },
        model: { type: 'gradient_boosting' },
        monitoring: { schedule: '* * * * * *', window: 2000 },
      }),
    );
    const loaded = await deployChurnModel(t.database, PIPELINE);
    await logPredictions(t.database, loaded, { rows: 2000, seed: 1, shift: 0.3 });
    const env = { ...proc.env, DATABASE_URL: t.url, STEWARD_PIPELINES_DIR: pipelines };
    procs = [spawnSteward(['worker'], env), spawnSteward(['worker'], env)];
  }, 60_000);

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await t?.close();
    await cleanup?.();
  });

  /** Each process's logged firings: every tick it fired, and whether it was the one that queued it. */
  const firings = () =>
    procs.map((p) =>
      p
        .output()
        .split('\n')
        .filter((line) => line.includes('"monitoring tick fired"'))
        .map((line) => JSON.parse(line) as { tickAt: string; queued: boolean }),
    );
  /** Ticks both processes fired (the second may start a few seconds after the first). */
  const firedByBoth = () => {
    const [a, b] = firings();
    return [...new Set(a?.map((f) => f.tickAt))].filter((tick) => b?.some((f) => f.tickAt === tick));
  };
  const checkedTicks = async () =>
    new Set(
      (await t.database.db.select({ tick: driftReports.tickAt }).from(driftReports)).map((r) =>
        r.tick?.toISOString(),
      ),
    );

  it('checks each tick once and pages once, though both processes fire every tick', async () => {
    await eventually(
      async () => {
        const checked = await checkedTicks();
        return firedByBoth().filter((tick) => checked.has(tick)).length >= TICKS;
      },
      60_000,
      `${TICKS} ticks fired by both processes and checked`,
    );
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));

    // Each tick both fired was queued by one of them only.
    for (const tick of firedByBoth()) {
      const queued = firings().flatMap((f) => f.filter((x) => x.tickAt === tick && x.queued));
      expect(queued, `tick ${tick}`).toHaveLength(1);
    }

    // One job per tick, and one report per tick.
    const { rows: jobs } = await t.database.executor.executeSql(
      `select singleton_key, count(*)::int as n from pgboss.job where name = 'steward_monitor' group by singleton_key`,
    );
    for (const job of jobs as { singleton_key: string; n: number }[])
      expect(job.n, job.singleton_key).toBe(1);
    const perTick = await t.database.db
      .select({ tick: driftReports.tickAt, n: count() })
      .from(driftReports)
      .groupBy(driftReports.tickAt)
      .having(sql`count(*) > 1`);
    expect(perTick).toEqual([]);

    // One alert, paged once: the later ticks find the same drift, within repeat_after.
    const alerts = await t.database.db.select().from(driftAlerts);
    expect(alerts).toHaveLength(1);
    const pages = await t.database.db.select().from(alertEvents).where(eq(alertEvents.type, 'fired'));
    expect(pages).toHaveLength(1);
  }, 120_000);
});
