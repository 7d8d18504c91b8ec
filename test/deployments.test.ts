import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aliasOf } from '../src/db/alias-repo.ts';
import { grantRole } from '../src/db/runs-repo.ts';
import { datasets, modelVersions, runs } from '../src/db/schema.ts';
import { isStewardError } from '../src/errors.ts';
import { createMemoryCatalog } from '../src/stages/catalog.ts';
import { packJson } from '../src/stages/data/serialize.ts';
import { createStageStore } from '../src/stages/store.ts';
import { MACHINE_VERSION } from '../src/workflows/pipeline-run.machine.ts';
import { createRunService, type RunService } from '../src/workflows/run-service.ts';
import { type Backend, backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';

const SPECS = [
  demoSpec({ name: 'plain' }),
  demoSpec({ name: 'canary', deploy: { strategy: 'canary', canary_percent: 25, canary_key: 'customer_id' } }),
  demoSpec({ name: 'shadow', deploy: { strategy: 'shadow' } }),
  demoSpec({ name: 'race', deploy: { strategy: 'canary' } }),
];

/** Registers model versions 1..n of `pipeline` as a finished training run would, without training. */
async function registerVersions(h: EngineHarness, pipeline: string, n: number): Promise<void> {
  const hash = `hash-${pipeline}`;
  await h.database.db
    .insert(datasets)
    .values({ hash, pipeline, source: {}, rowCount: 0, columns: [], profile: {}, content: packJson([]) })
    .onConflictDoNothing();
  for (let version = 1; version <= n; version++) {
    const id = randomUUID();
    await h.database.db.insert(runs).values({
      id,
      pipeline,
      kind: 'train',
      state: 'evaluating',
      snapshot: {},
      machineVersion: MACHINE_VERSION,
      version: 0,
      requestedBy: 'alice',
      params: {},
      spec: {},
    });
    await h.database.db.insert(modelVersions).values({
      pipeline,
      version,
      runId: id,
      datasetHash: hash,
      specHash: 's',
      task: 'classification',
      modelType: 'logistic',
      params: {},
      artifact: packJson({}),
      transform: {},
      metrics: {},
    });
  }
}

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (isStewardError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
};

describe.each(backends())('deployments (%s)', (backend: Backend) => {
  let h: EngineHarness;
  let service: RunService;

  beforeAll(async () => {
    h = await engineHarness(backend, { specs: SPECS, store: createStageStore() });
    service = createRunService({
      database: h.database,
      engine: h.engine,
      catalog: createMemoryCatalog(SPECS),
    });
    await grantRole(h.database.db, { userId: 'root', role: 'admin', grantedBy: 'test' });
    for (const pipeline of ['plain', 'canary', 'shadow', 'race']) await registerVersions(h, pipeline, 3);
  }, 60_000);
  afterAll(async () => h?.close());

  /** Deploys through the gate: alice asks, bob approves, the worker deploys. */
  async function deployed(request: Promise<Awaited<ReturnType<RunService['deploy']>>>) {
    const result = await request;
    if (result.status !== 'started') throw new Error(`not started: ${result.message}`);
    await h.drain();
    let run = (await service.show({ number: result.run.number })).run;
    if (run.state === 'awaitingApproval') {
      await service.act({ run: { number: run.number }, action: 'approve', as: 'bob' });
      await h.drain();
      run = (await service.show({ number: run.number })).run;
    }
    expect(run.state).toBe('deployed');
    return run;
  }

  it('moves the alias through approval, records history, and says when a deploy changes nothing', async () => {
    const first = await deployed(service.deploy({ pipeline: 'plain', version: 1, requestedBy: 'alice' }));
    expect(first.approvals.map((a) => a.by)).toEqual(['bob']);
    expect(await aliasOf(h.database.db, 'plain')).toMatchObject({ version: 1, strategy: 'replace' });

    // An admin's deploy is a run like any other, but no one needs to approve it.
    const second = await service.deploy({ pipeline: 'plain', version: 2, requestedBy: 'root' });
    expect(second.status).toBe('started');
    await h.drain();
    if (second.status !== 'started') return;
    expect((await service.show({ number: second.run.number })).run.state).toBe('deployed');
    expect((await aliasOf(h.database.db, 'plain'))?.version).toBe(2);

    const again = await service.deploy({ pipeline: 'plain', version: 2, requestedBy: 'alice' });
    expect(again).toMatchObject({
      status: 'unchanged',
      message: expect.stringMatching(/v2 is already in production/),
    });
    expect(
      await refusal(service.deploy({ pipeline: 'plain', version: 9, requestedBy: 'alice' })),
    ).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/no model version v9/),
    });

    const history = await service.history('plain');
    expect(history.map((e) => [e.action, e.version, e.replaced, e.approvedBy])).toEqual([
      ['deploy', 2, 1, []],
      ['deploy', 1, null, ['bob']],
    ]);
    expect(history[0]).toMatchObject({ until: null, run: second.run.number, actor: 'root' });
    expect(history[1]?.until).toBe(history[0]?.from);
  });

  it('rolls back by applying the stored undo, and walks back one change per rollback', async () => {
    // plain: v1 → v2 (previous test) → v3 → v1. Rolling back from v1 goes to v3, which no
    // "newest version below production" could guess, then v2, then v1.
    await deployed(service.deploy({ pipeline: 'plain', version: 3, requestedBy: 'alice' }));
    await deployed(service.deploy({ pipeline: 'plain', version: 1, requestedBy: 'alice' }));
    for (const expected of [3, 2, 1]) {
      await deployed(service.rollback({ pipeline: 'plain', requestedBy: 'alice' }));
      expect((await aliasOf(h.database.db, 'plain'))?.version).toBe(expected);
    }
    // The first deployment replaced nothing: there is nothing left to roll back to.
    expect(await refusal(service.rollback({ pipeline: 'plain', requestedBy: 'alice' }))).toMatchObject({
      code: 'EVENT_NOT_ALLOWED',
      message: expect.stringMatching(/first deployment/),
    });
    const history = await service.history('plain');
    expect(history.slice(0, 3).map((e) => [e.action, e.version])).toEqual([
      ['rollback', 1],
      ['rollback', 2],
      ['rollback', 3],
    ]);
    expect(history.filter((e) => e.undoneBy !== null).map((e) => e.version)).toEqual([1, 3, 2]);
    // An explicit version replaces production whatever the history says.
    await deployed(service.rollback({ pipeline: 'plain', version: 3, requestedBy: 'alice' }));
    expect((await aliasOf(h.database.db, 'plain'))?.version).toBe(3);
  });

  it('a canary splits the alias; models show the shares; only an approver promotes; rollback ends the split', async () => {
    await deployed(service.deploy({ pipeline: 'canary', version: 1, requestedBy: 'alice' }));
    // With nothing in production there is nothing to canary against: v1 replaces.
    expect(await aliasOf(h.database.db, 'canary')).toMatchObject({ version: 1, strategy: 'replace' });
    const run = await deployed(service.deploy({ pipeline: 'canary', version: 2, requestedBy: 'alice' }));
    expect(run.summaries.deploy).toMatchObject({
      production: 'v1',
      candidate: 'v2',
      strategy: 'canary',
      percent: 25,
    });
    expect(await aliasOf(h.database.db, 'canary')).toMatchObject({
      version: 1,
      strategy: 'canary',
      candidate: 2,
      canaryPercent: 25,
      canaryKey: 'customer_id',
    });
    const shares = (await service.models('canary')).map((m) => [m.version, m.serving, m.traffic]);
    expect(shares).toEqual([
      [3, null, 0],
      [2, 'canary', 25],
      [1, 'production', 75],
    ]);

    expect(await refusal(service.promote({ pipeline: 'canary', as: 'alice' }))).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/approver role on canary/),
    });
    const { alias, entry } = await service.promote({ pipeline: 'canary', as: 'bob', credential: 'test' });
    expect(alias).toMatchObject({ production: 2, strategy: 'replace', candidate: null });
    expect(entry).toMatchObject({
      action: 'promote',
      version: 2,
      replaced: 1,
      actor: 'bob',
      approvedBy: ['bob'],
    });
    expect(await refusal(service.promote({ pipeline: 'canary', as: 'bob' }))).toMatchObject({
      code: 'EVENT_NOT_ALLOWED',
      message: expect.stringMatching(/no canary or shadow to promote/),
    });

    // A new canary, rolled back: production stays v2, the split ends.
    await deployed(service.deploy({ pipeline: 'canary', version: 3, requestedBy: 'alice' }));
    expect((await aliasOf(h.database.db, 'canary'))?.candidate).toBe(3);
    await deployed(service.rollback({ pipeline: 'canary', requestedBy: 'alice' }));
    expect(await aliasOf(h.database.db, 'canary')).toMatchObject({
      version: 2,
      strategy: 'replace',
      candidate: null,
    });
  });

  it('a shadow keeps production answering and is promoted like a canary', async () => {
    await deployed(service.deploy({ pipeline: 'shadow', version: 1, requestedBy: 'alice' }));
    await deployed(service.deploy({ pipeline: 'shadow', version: 2, requestedBy: 'alice' }));
    expect(await aliasOf(h.database.db, 'shadow')).toMatchObject({
      version: 1,
      strategy: 'shadow',
      candidate: 2,
    });
    expect((await service.models('shadow')).find((m) => m.version === 2)).toMatchObject({
      serving: 'shadow',
      traffic: 0,
    });
    const again = await service.deploy({ pipeline: 'shadow', version: 2, requestedBy: 'alice' });
    expect(again).toMatchObject({ status: 'unchanged', message: expect.stringMatching(/already in shadow/) });
  });

  it('a deploy cancelled while it waits for approval moves nothing', async () => {
    const before = await aliasOf(h.database.db, 'plain');
    const result = await service.deploy({ pipeline: 'plain', version: 1, requestedBy: 'alice' });
    if (result.status !== 'started') throw new Error('not started');
    await h.drain();
    await service.act({ run: { number: result.run.number }, action: 'cancel', as: 'alice' });
    await h.drain();
    expect(await aliasOf(h.database.db, 'plain')).toEqual(before);
  });

  it.runIf(backend === 'postgres')(
    'two promotions racing on two connections: one wins, one is told',
    async () => {
      await deployed(service.deploy({ pipeline: 'race', version: 1, requestedBy: 'alice' }));
      await deployed(service.deploy({ pipeline: 'race', version: 2, requestedBy: 'alice' }));
      // Hold the alias lock on a connection of our own until both promotions wait for it.
      const held = h.database.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('production_alias:race'))`);
        // (At most 3 s: without the lock nothing waits, and both promotions go ahead.)
        for (let waiting = 0, t0 = Date.now(); waiting < 2 && Date.now() - t0 < 3000; await sleep(5)) {
          const result = (await h.database.db.execute(
            sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%pg_advisory_xact_lock%'`,
          )) as unknown as { rows: { n: number | string }[] };
          waiting = Number(result.rows[0]?.n);
        }
      });
      const outcomes = await Promise.allSettled([
        service.promote({ pipeline: 'race', as: 'bob' }),
        service.promote({ pipeline: 'race', as: 'carol' }),
        held,
      ]);
      const [a, b] = outcomes;
      expect([a?.status, b?.status].sort()).toEqual(['fulfilled', 'rejected']);
      const failed = [a, b].find((o) => o?.status === 'rejected') as PromiseRejectedResult;
      expect(failed.reason.message).toMatch(/no canary or shadow to promote/);
      expect((await service.history('race')).filter((e) => e.action === 'promote')).toHaveLength(1);
    },
  );
});
