import { grantRole } from '../../src/db/runs-repo.ts';
import { silentLogger } from '../../src/log.ts';
import type { Metrics } from '../../src/metrics.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { PipelineSpec } from '../../src/stages/spec.ts';
import type { StageName, StageRequest, StageSet } from '../../src/stages/stage.ts';
import type { StageStore } from '../../src/stages/store.ts';
import type { Clock } from '../../src/workflows/clock.ts';
import { createRunEngine, type EngineTestHooks, type RunEngine } from '../../src/workflows/run-engine.ts';
import { createInlineExecutor } from '../../src/workflows/stage-executor.ts';
import { createStageWorker, type StageWorker } from '../../src/workflows/stage-worker.ts';
import { runParams, stages } from '../fixtures/test-stages.ts';
import type { Backend, TestDatabase } from './database.ts';
import { testDatabase } from './database.ts';

export function demoSpec(overrides: Record<string, unknown> = {}): PipelineSpec {
  return PipelineSpec.parse({
    name: 'demo',
    task: 'classification',
    source: { type: 'synthetic' },
    target: 'churned',
    model: { type: 'logistic' },
    ...overrides,
  });
}

/** A request for `stage` of a first training run of `spec`, as a worker sends it (no inputs). */
export function stageRequest(spec: PipelineSpec, stage: StageName = 'ingest'): StageRequest {
  return {
    run: { id: 'r', number: 1, pipeline: spec.name, kind: 'train', requestedBy: 'alice', params: {}, spec },
    stage,
    attempt: 1,
    inputs: {},
  };
}

export type EngineHarness = TestDatabase & { engine: RunEngine; worker: StageWorker; drain(): Promise<void> };

/** A database, an engine over the given specs, and an inline worker; users alice (operator), bob and carol (approvers). */
export async function engineHarness(
  backend: Backend,
  options: {
    specs?: PipelineSpec[];
    /** @default the database's clock, as in production */
    clock?: Clock;
    stages?: StageSet;
    store?: StageStore;
    testHooks?: EngineTestHooks;
    /** Recorded by the engine (events applied) and the worker (stage attempts). */
    metrics?: Metrics;
  } = {},
): Promise<EngineHarness> {
  const t = await testDatabase(backend);
  const engine = createRunEngine({
    database: t.database,
    jobs: t.jobs,
    catalog: createMemoryCatalog(options.specs ?? [demoSpec()]),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.testHooks ? { testHooks: options.testHooks } : {}),
    extraParams: runParams,
    log: silentLogger,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  const worker = createStageWorker({
    database: t.database,
    jobs: t.jobs,
    engine,
    executor: createInlineExecutor(options.stages ?? stages),
    ...(options.store ? { store: options.store } : {}),
    log: silentLogger,
    workerId: 'test-worker',
    concurrency: 4,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  for (const [userId, role] of [
    ['alice', 'operator'],
    ['bob', 'approver'],
    ['carol', 'approver'],
    ['victor', 'viewer'],
  ] as const) {
    await grantRole(t.database.db, { userId, role, grantedBy: 'test' });
  }
  return {
    ...t,
    engine,
    worker,
    /** Runs jobs until none is left. */
    async drain() {
      for (let i = 0; i < 100; i++) if ((await worker.tick()) === 0) return;
      throw new Error('jobs did not drain in 100 rounds');
    },
  };
}
