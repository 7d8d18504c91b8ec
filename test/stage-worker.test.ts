import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatRefused } from '../src/bot/chat.ts';
import { findRun, stageAttemptsOf, timeline } from '../src/db/runs-repo.ts';
import {
  chatOutbox,
  datasets,
  modelVersions,
  productionModels,
  runs,
  stageAttempts,
} from '../src/db/schema.ts';
import { silentLogger } from '../src/log.ts';
import type { StageSet } from '../src/stages/stage.ts';
import { StageFailure } from '../src/stages/stage.ts';
import type { StageStore } from '../src/stages/store.ts';
import { MACHINE_VERSION } from '../src/workflows/pipeline-run.machine.ts';
import { createInlineExecutor } from '../src/workflows/stage-executor.ts';
import { createStageWorker, type StageWorkerDeps } from '../src/workflows/stage-worker.ts';
import { stages as testStages } from './fixtures/test-stages.ts';
import { backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';
import { recordingLogger } from './helpers/logger.ts';

/** A store that writes what the real one writes at evaluate (a model version) and deploy (production). */
const recordingStore: StageStore = {
  load: async (_db, request) => {
    if (request.run.params.missing_dataset && request.stage === 'checks') {
      throw new StageFailure('dataset 3f2a9c is not stored; run the pipeline again');
    }
    return {};
  },
  async save(tx, request, result) {
    const { id, pipeline } = request.run;
    if (request.stage === 'evaluate') {
      const hash = `hash-${id}`;
      await tx.insert(datasets).values({
        hash,
        pipeline,
        source: {},
        rowCount: 1,
        columns: [],
        profile: {},
        content: Buffer.from('x'),
      });
      const [{ n } = { n: 0 }] = await tx
        .select({ n: sql<number>`coalesce(max(${modelVersions.version}), 0)::int` })
        .from(modelVersions)
        .where(eq(modelVersions.pipeline, pipeline));
      await tx.insert(modelVersions).values({
        pipeline,
        version: Number(n) + 1,
        runId: id,
        datasetHash: hash,
        specHash: 'spec',
        task: 'classification',
        modelType: 'logistic',
        params: {},
        artifact: Buffer.from('{}'),
        transform: {},
        metrics: {},
      });
    }
    if (request.stage === 'deploy') {
      // The attempt number stands in for the version, so a test can tell whose write stayed.
      await tx
        .insert(productionModels)
        .values({ pipeline, version: request.attempt, runId: id })
        .onConflictDoUpdate({
          target: productionModels.pipeline,
          set: { version: request.attempt, runId: id },
        });
    }
    return result;
  },
};

/** A deferred promise, for stages that wait until the test lets them go. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.each(backends())('job loop on %s', (backend) => {
  let h: EngineHarness;
  const deployGates = new Map<number, ReturnType<typeof gate>>();
  /** The test stages, except that deploy attempt 1 of a run with `hold_deploy` waits for its gate. */
  const stages: StageSet = {
    ...testStages,
    async deploy(request, context) {
      if (request.run.params.hold_deploy && request.attempt === 1) {
        const g = gate();
        deployGates.set(request.run.number, g);
        await g.opened;
        if (request.run.params.fail_held) throw new Error('deploy attempt 1 failed after it was superseded');
      }
      return (testStages.deploy as NonNullable<StageSet['deploy']>)(request, context);
    },
  };

  beforeAll(async () => {
    h = await engineHarness(backend, {
      specs: [demoSpec(), demoSpec({ name: 'once', retries: 0 })],
      stages,
      store: recordingStore,
    });
  });
  afterAll(() => h?.close());

  const worker = (overrides: Partial<StageWorkerDeps> = {}) =>
    createStageWorker({
      database: h.database,
      jobs: h.jobs,
      engine: h.engine,
      executor: createInlineExecutor(stages),
      store: recordingStore,
      log: silentLogger,
      workerId: 'second-worker',
      pollMs: 20,
      ...overrides,
    });

  async function toGate(params: Record<string, string> = {}, pipeline = 'demo') {
    const { run } = await h.engine.createRun({ pipeline, requestedBy: 'alice', params });
    await h.drain();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('awaitingApproval');
    return run;
  }
  const cancel = (number: number) =>
    h.engine.apply({
      run: { number },
      event: { type: 'run.cancel' },
      actor: 'alice',
      idempotencyKey: `cancel-${number}`,
    });
  const started = (runId: string, stage: string) =>
    until(`${stage} to start`, async () =>
      (await timeline(h.database.db, runId)).some(
        (e) => e.type === 'stage.started' && (e.payload as { stage: string }).stage === stage,
      ),
    );
  const production = async (pipeline: string) =>
    (await h.database.db.select().from(productionModels).where(eq(productionModels.pipeline, pipeline)))[0];

  /**
   * Approves `run`, lets deploy attempt 1 hang on the harness's worker, and has a second
   * worker find it silent and reap it: attempt 2 is queued while attempt 1 still runs.
   */
  async function supersedeDeploy(run: { id: string; number: number }) {
    await h.engine.apply({
      run: { number: run.number },
      event: { type: 'approval.grant' },
      actor: 'bob',
      idempotencyKey: 'ok',
    });
    const first = h.worker.tick();
    await until('deploy attempt 1 to hang', async () => deployGates.get(run.number));
    await h.database.db
      .update(stageAttempts)
      .set({ heartbeatAt: new Date(Date.now() - 3_600_000) })
      .where(and(eq(stageAttempts.runId, run.id), eq(stageAttempts.stage, 'deploy')));
    const other = worker({ leaseMs: 1000 });
    expect(await other.reap()).toBe(1);
    return { first, other };
  }

  it('leaves production where it was when the run is cancelled during deploying', async () => {
    const run = await toGate({ sleep_deploy: '400' });
    const before = await production('demo');
    await h.engine.apply({
      run: { number: run.number },
      event: { type: 'approval.grant' },
      actor: 'bob',
      idempotencyKey: 'ok',
    });
    const deploying = h.worker.tick();
    await started(run.id, 'deploy');
    expect(await cancel(run.number)).toMatchObject({ status: 'applied', to: 'cancelled' });
    await deploying;
    expect(await production('demo')).toEqual(before);
    const [deploy] = (await stageAttemptsOf(h.database.db, run.id)).filter((a) => a.stage === 'deploy');
    expect(deploy).toMatchObject({ status: 'released', output: null });
    expect(deploy?.error).toMatch(/did not take the result, so nothing was stored/);
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('cancelled');
    expect(await h.jobs.fetch('steward_stage', 10)).toEqual([]);
  });

  it('registers no model version for a run cancelled while it was evaluating', async () => {
    const { run } = await h.engine.createRun({
      pipeline: 'demo',
      requestedBy: 'alice',
      params: { sleep_evaluate: '400' },
    });
    const draining = h.drain();
    await started(run.id, 'evaluate');
    await cancel(run.number);
    await draining;
    expect(await h.database.db.select().from(modelVersions).where(eq(modelVersions.runId, run.id))).toEqual(
      [],
    );
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('cancelled');
  });

  it('keeps what the current attempt stored, and nothing from an attempt that was superseded', async () => {
    const run = await toGate({ hold_deploy: '1' });
    const { first, other } = await supersedeDeploy(run);
    await other.tick(); // attempt 2 deploys
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('deployed');
    expect(await production('demo')).toMatchObject({ version: 2, runId: run.id });

    deployGates.get(run.number)?.open(); // the superseded attempt reports back
    await first;
    const attempts = (await stageAttemptsOf(h.database.db, run.id)).filter((a) => a.stage === 'deploy');
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'lost'],
      [2, 'done'],
    ]);
    expect(attempts[0]?.error).toMatch(/no heartbeat/);
    expect(attempts[0]?.output).toBeNull();
    expect(await production('demo')).toMatchObject({ version: 2, runId: run.id });
  });

  it('records nothing from an attempt that fails after it was superseded', async () => {
    const run = await toGate({ hold_deploy: '1', fail_held: '1' });
    const { first, other } = await supersedeDeploy(run);
    deployGates.get(run.number)?.open(); // attempt 1 now fails, too late
    await first;
    const attempts = (await stageAttemptsOf(h.database.db, run.id)).filter((a) => a.stage === 'deploy');
    expect(attempts.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'lost'],
      [2, 'queued'],
    ]);
    expect(attempts[0]?.error).toMatch(/no heartbeat/);
    const failures = (await timeline(h.database.db, run.id)).filter((e) => e.type === 'stage.failed');
    expect(failures.map((e) => (e.payload as { cause: string }).cause)).toEqual(['lost']);
    await other.tick();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('deployed');
  });

  it('hands an attempt back when its run was written by a Steward version this one cannot restore', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    // As if a newer Steward wrote the run during a rolling upgrade.
    await h.database.db.update(runs).set({ machineVersion: 99 }).where(eq(runs.id, run.id));
    const [before] = await stageAttemptsOf(h.database.db, run.id);
    await h.worker.tick();
    const [after] = await stageAttemptsOf(h.database.db, run.id);
    expect(after).toMatchObject({ stage: 'ingest', attempt: 1, status: 'queued', workerId: null });
    expect(after?.jobId).not.toBe(before?.jobId);
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('queued');

    // The newer Steward (here: the same one, once the run is readable again) takes it up.
    await h.database.db.update(runs).set({ machineVersion: MACHINE_VERSION }).where(eq(runs.id, run.id));
    await h.database.db.execute(
      sql`update pgboss.job set start_after = now() where id = ${after?.jobId}::uuid`,
    );
    await h.drain();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('awaitingApproval');
  });

  it('reports a failure before the stage runs as that attempt’s failure, with its message, and does not retry a fatal one', async () => {
    const { run } = await h.engine.createRun({
      pipeline: 'demo',
      requestedBy: 'alice',
      params: { missing_dataset: '1' },
    });
    await h.drain();
    const row = await findRun(h.database.db, { id: run.id });
    expect(row?.state).toBe('failed');
    const checks = (await stageAttemptsOf(h.database.db, run.id)).filter((a) => a.stage === 'checks');
    expect(checks.map((a) => a.status)).toEqual(['failed']);
    expect(checks[0]?.error).toMatch(/dataset 3f2a9c is not stored/);
    const failed = (await timeline(h.database.db, run.id)).find((e) => e.type === 'stage.failed');
    expect(failed?.payload).toMatchObject({
      cause: 'fatal',
      error: 'dataset 3f2a9c is not stored; run the pipeline again',
    });
  });

  it('runs stages at full speed while chat never answers, and stops within its grace', async () => {
    const hung = worker({ notifiers: { slack: () => new Promise(() => {}) }, workerId: 'hung-chat' });
    hung.start();
    try {
      const t0 = performance.now();
      const runs = await Promise.all(
        [1, 2, 3].map(() => h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' })),
      );
      for (const { run } of runs) {
        await until(
          `run #${run.number} at the gate`,
          async () => (await findRun(h.database.db, { id: run.id }))?.state === 'awaitingApproval',
        );
      }
      expect(performance.now() - t0).toBeLessThan(10_000);
    } finally {
      const t1 = performance.now();
      await hung.stop(1000);
      expect(performance.now() - t1).toBeLessThan(1000 + 4000);
    }
  });

  it('delivers other runs’ messages while one run’s delivery hangs, about once a second each', async () => {
    const { run: stuck } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const calls: { runId: string; at: number }[] = [];
    const delivering = worker({
      workerId: 'chat-worker',
      notifiers: {
        slack: async (runId) => {
          calls.push({ runId, at: performance.now() });
          if (runId === stuck.id) await new Promise(() => {});
        },
      },
    });
    delivering.start();
    try {
      await until('the stuck delivery', async () => calls.some((c) => c.runId === stuck.id));
      const { run } = await h.engine.createRun({
        pipeline: 'demo',
        requestedBy: 'alice',
        params: { sleep_train: '3000' },
      });
      const draining = h.drain();
      await started(run.id, 'train');
      // A burst: 40 progress reports in two seconds, each one an applied event.
      for (let i = 0; i < 40; i++) {
        await h.engine.apply({
          run: { id: run.id },
          event: { type: 'stage.progress', stage: 'train', attempt: 1, message: `epoch ${i}` },
          actor: 'steward',
          idempotencyKey: `burst-${i}`,
        });
        await sleep(50);
      }
      await draining;
      await until(
        'messages of the other run',
        async () => calls.filter((c) => c.runId === run.id).length >= 3,
        20_000,
      );
      const mine = calls.filter((c) => c.runId === run.id).map((c) => c.at);
      const events = (await timeline(h.database.db, run.id)).length;
      // Many events, far fewer deliveries: about one a second.
      expect(events).toBeGreaterThan(40);
      expect(mine.length).toBeLessThan(12);
      for (let i = 1; i < mine.length; i++)
        expect((mine[i] as number) - (mine[i - 1] as number)).toBeGreaterThan(800);
      expect(calls.filter((c) => c.runId === stuck.id)).toHaveLength(1);
    } finally {
      await delivering.stop(500);
    }
  });

  it('records chat deliveries whichever process applied the event; only a connected one sends them', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.drain(); // the harness's worker has no chat connection
    const pending = await h.database.db.select().from(chatOutbox).where(eq(chatOutbox.runId, run.id));
    // One mark per surface: each has its own delivery queue.
    expect(pending.map((p) => p.surface).sort()).toEqual(['console', 'slack']);
    const sent: string[] = [];
    const connected = worker({ notifiers: { slack: async (runId) => void sent.push(runId) } });
    await sleep(1100); // the mark is due a second after the last event
    await connected.tick();
    expect(sent).toContain(run.id);
    // Slack's mark is gone; the console's waits for a process connected to the console.
    const left = await h.database.db.select().from(chatOutbox).where(eq(chatOutbox.runId, run.id));
    expect(left.map((p) => p.surface)).toEqual(['console']);
  });

  it('forgets marks that no process took for a day instead of posting old runs when a surface comes on', async () => {
    const { run: old } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const { run: recent } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.drain();
    await h.database.db.execute(
      sql`update chat_outbox set updated_at = now() - interval '25 hours' where run_id = ${old.id} and surface = 'console'`,
    );
    const sent: string[] = [];
    const console = worker({ notifiers: { console: async (runId) => void sent.push(runId) } });
    await sleep(1100);
    // Earlier tests' runs are marked for the console too: deliver until this one's turn came.
    for (let i = 0; i < 50 && !sent.includes(recent.id); i++) await console.tick();
    expect(sent).toContain(recent.id);
    expect(sent).not.toContain(old.id);
    const left = await h.database.db.select().from(chatOutbox).where(eq(chatOutbox.runId, old.id));
    expect(left.map((m) => m.surface)).toEqual(['slack']);
  });

  it('stops retrying a delivery the chat service refused for good, and says what to fix once', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'once', requestedBy: 'alice' });
    await h.drain();
    const { logger: log, lines } = recordingLogger();
    let tries = 0;
    const refused = worker({
      log,
      chatBackoff: () => 0,
      notifiers: {
        slack: async (runId) => {
          if (runId !== run.id) return;
          tries++;
          throw new ChatRefused('Slack refused a message in #ml-ops (not_in_channel): invite the bot there');
        },
      },
    });
    await sleep(1100);
    for (let i = 0; i < 5; i++) {
      await refused.tick();
      await sleep(50);
    }
    expect(tries).toBe(1);
    const marks = await h.database.db.select().from(chatOutbox).where(eq(chatOutbox.runId, run.id));
    expect(marks.map((m) => m.surface)).toEqual(['console']);
    expect(lines.filter((l) => JSON.stringify(l).includes('not_in_channel'))).toHaveLength(1);
  });

  it('keeps retrying a failing delivery and says so, instead of giving up after three tries', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'once', requestedBy: 'alice' });
    await h.drain();
    let failuresLeft = 5;
    const { logger: log, lines } = recordingLogger();
    const delivered: string[] = [];
    const flaky = worker({
      log,
      chatBackoff: () => 0,
      notifiers: {
        slack: async (runId) => {
          if (runId !== run.id) return;
          if (failuresLeft-- > 0) throw new Error('slack said: service_unavailable');
          delivered.push(runId);
        },
      },
    });
    await sleep(1100);
    for (let i = 0; i < 8 && delivered.length === 0; i++) {
      await flaky.tick();
      await sleep(50);
    }
    expect(delivered).toEqual([run.id]);
    const errors = lines.filter((e) => e.level === 'error' && e.message.includes('not getting through'));
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors[0]?.fields).toMatchObject({ runId: run.id, error: 'slack said: service_unavailable' });
  });

  it('with onlyRun, runs that run’s stages and claims no other run’s jobs', async () => {
    const { run: mine } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const { run: theirs } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const follower = worker({ workerId: 'follower' });
    follower.start({ onlyRun: mine.id });
    try {
      await until(
        'my run at the gate',
        async () => (await findRun(h.database.db, { id: mine.id }))?.state === 'awaitingApproval',
      );
      expect((await findRun(h.database.db, { id: theirs.id }))?.state).toBe('queued');
      expect((await stageAttemptsOf(h.database.db, theirs.id)).map((a) => a.status)).toEqual(['queued']);
    } finally {
      await follower.stop(500);
    }
    await h.drain(); // their job is still there for a full worker
    expect((await findRun(h.database.db, { id: theirs.id }))?.state).toBe('awaitingApproval');
  });
});
