import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvents, runs, stageAttempts } from '../../src/db/schema.ts';
import { createMemoryCatalog, parseSpec } from '../../src/stages/catalog.ts';
import { stages as stewardStages } from '../../src/stages/index.ts';
import { PipelineSpec } from '../../src/stages/spec.ts';
import type { StageRequest } from '../../src/stages/stage.ts';
import { createStageStore } from '../../src/stages/store.ts';
import { createRunService, type RunService } from '../../src/workflows/run-service.ts';
import { createThreadExecutor } from '../../src/workflows/stage-executor.ts';
import { stages as testStages } from '../fixtures/test-stages.ts';
import { backends, seedDataDir } from '../helpers/database.ts';
import { type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { cli } from '../helpers/processes.ts';

const spec = (name: string, model: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  PipelineSpec.parse({
    name,
    task: 'regression',
    source: { type: 'synthetic', generator: 'housing' },
    target: 'price',
    model,
    ...extra,
  });

/** A random forest on a CSV source (no source params), a logistic model and an MLP on synthetic data. */
const SPECS = [
  spec(
    'housing',
    { type: 'random_forest', params: { n_estimators: 60 } },
    {
      source: { type: 'csv', path: '/nonexistent/housing.csv' },
    },
  ),
  spec(
    'churn',
    { type: 'logistic' },
    { task: 'classification', source: { type: 'synthetic' }, target: 'churned' },
  ),
  spec('tiny', { type: 'mlp', params: { hidden: [8], epochs: 20 } }),
];

/** What a refused request must leave behind: nothing at all. */
async function nothingStored(h: EngineHarness, service: RunService) {
  expect(await service.list()).toEqual([]);
  const [events] = await h.database.db.select({ n: count() }).from(runEvents);
  const [attempts] = await h.database.db.select({ n: count() }).from(stageAttempts);
  const [rows] = await h.database.db.select({ n: count() }).from(runs);
  expect([rows?.n, events?.n, attempts?.n]).toEqual([0, 0, 0]);
}

describe.each(backends())('run params checked when the run is requested, on %s', (backend) => {
  let h: EngineHarness;
  let service: RunService;
  beforeAll(async () => {
    h = await engineHarness(backend, {
      specs: SPECS,
      // Steward's own stages up to evaluate, so a valid override is seen to take effect.
      stages: { ...stewardStages, deploy: testStages.deploy },
      store: createStageStore(),
    });
    service = createRunService({
      database: h.database,
      engine: h.engine,
      catalog: createMemoryCatalog(SPECS),
    });
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each([
    ['housing', { n_estimators: '100000000' }, 'n_estimators: at most 2000 (got 100000000)'],
    ['churn', { max_iter: 'abc' }, 'max_iter: expected a whole number, got `abc`'],
    ['churn', { max_iter: '2.5' }, 'max_iter: expected a whole number, got `2.5`'],
    [
      'housing',
      { n_estimator: '5' },
      'n_estimator: not a parameter of housing; did you mean `n_estimators`?',
    ],
    [
      'housing',
      { foo: 'bar' },
      'foo: not a parameter of housing (random_forest); it takes n_estimators, max_depth, min_samples_leaf, max_features, seed',
    ],
    ['housing', { rows: '200' }, 'rows: not a parameter of housing (random_forest); it takes'],
    ['tiny', { hidden: '64,5000' }, 'hidden.1: at most 1024 units per layer (got 5000)'],
    ['tiny', { hidden: '8,8,8,8,8,8,8,8,8' }, 'hidden: at most 8 layers (got 9)'],
    ['tiny', { epochs: '1000000' }, 'epochs: at most 1000 (got 1000000)'],
    ['tiny', { rows: '10000000' }, 'rows: at most 5000000 (got 10000000)'],
    ['tiny', { drift: '3' }, 'drift: a share between 0 and 1 (got 3)'],
    ['tiny', { version: 'v2' }, 'version: only deploy and rollback runs take a version'],
  ])(
    '%s %o is refused with the field and the rule, and creates nothing',
    async (pipeline, params, message) => {
      const refused = service.start({ pipeline, params, requestedBy: 'alice' });
      await expect(refused).rejects.toMatchObject({
        code: 'BAD_REQUEST',
        message: expect.stringContaining(message),
      });
      await nothingStored(h, service);
    },
  );

  it('names every problem of a request on its own line, not as JSON', async () => {
    await expect(
      h.engine.createRun({
        pipeline: 'tiny',
        params: { epochs: 'many', batch_size: '0' },
        requestedBy: 'alice',
      }),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message:
        '2 problems with the run params:\n  epochs: expected a whole number, got `many`\n  batch_size: at least 1 (got 0)',
    });
    await nothingStored(h, service);
  });

  it('checks the params of deploy and rollback runs too', async () => {
    for (const [params, message] of [
      [{ version: 'latest' }, 'version: expected a model version such as v3, got `latest`'],
      [
        { version: 'v2', n_estimators: '100000000' },
        'n_estimators: a deploy run trains nothing; it takes only version',
      ],
      [{}, 'version: a deploy run needs the model version'],
    ] as const) {
      await expect(
        h.engine.createRun({ pipeline: 'housing', kind: 'deploy', params, requestedBy: 'alice' }),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining(message) });
    }
    await nothingStored(h, service);
  });

  it('still takes valid overrides, and the stages use them', async () => {
    const { run } = await service.start({
      pipeline: 'tiny',
      params: { epochs: '3', rows: '200', hidden: '4,4' },
      requestedBy: 'alice',
    });
    expect(run.params).toEqual({ epochs: '3', rows: '200', hidden: '4,4' });
    await h.drain();
    const { run: done } = await service.show({ number: run.number });
    expect(done.state).toBe('awaitingApproval');
    expect(done.summaries.ingest).toMatchObject({ rows: 200 });
    expect(done.summaries.train).toMatchObject({ params: { epochs: 3, hidden: [4, 4] } });
    const deploy = await h.engine.createRun({
      pipeline: 'housing',
      kind: 'deploy',
      params: { version: 'v1' },
      requestedBy: 'alice',
    });
    expect(deploy.run.params).toEqual({ version: 'v1' });
  });

  it('fails a run at once, with a readable message, when its stored params or spec break a rule at a stage', async () => {
    // A run stored before a bound existed (or a row edited by hand) reaches the train
    // stage with what the request check would refuse: it must not be retried.
    const badParams = await service.start({ pipeline: 'churn', params: {}, requestedBy: 'alice' });
    await h.database.db
      .update(runs)
      .set({ params: { max_iter: 'abc' } })
      .where(eq(runs.id, badParams.run.id));
    const stored = (await service.show({ number: badParams.run.number })).run;
    const badSpec = await service.start({ pipeline: 'tiny', params: {}, requestedBy: 'alice' });
    const oversized = { ...SPECS[2], model: { type: 'random_forest', params: { n_estimators: 100000000 } } };
    await h.database.db.update(runs).set({ spec: oversized }).where(eq(runs.id, badSpec.run.id));
    await h.drain();

    for (const [run, message] of [
      [stored, 'train: max_iter: expected a whole number, got `abc`'],
      [badSpec.run, 'model.params.n_estimators: at most 2000 (got 100000000)'],
    ] as const) {
      const detail = await service.show({ number: run.number });
      // One attempt, reported fatal: retrying would fail the same way.
      const failing = detail.attempts.filter((a) => a.status === 'failed');
      expect(failing).toHaveLength(1);
      const failed = detail.timeline.filter((e) => e.type === 'stage.failed');
      expect(failed.map((e) => e.detail.cause)).toEqual(['fatal']);
      expect(detail.run.state).toBe('failed');
      expect(detail.run.error?.message).toContain(message);
      expect(detail.run.error?.message).not.toMatch(/^\[/);
      expect(failing[0]?.error).toContain(message);
    }
  });
});

describe('bounds in a pipeline spec', () => {
  const yaml = (model: string, source = '{ type: synthetic, generator: housing }') =>
    ['name: big', 'task: regression', `source: ${source}`, 'target: price', `model: ${model}`].join('\n');

  it.each([
    [
      '{ type: random_forest, params: { n_estimators: 100000000 } }',
      'model.params.n_estimators: at most 2000 (got 100000000)',
    ],
    [
      '{ type: gradient_boosting, params: { max_iter: 1e6 } }',
      'model.params.max_iter: at most 10000 (got 1000000)',
    ],
    [
      '{ type: gradient_boosting, params: { max_leaf_nodes: 100000 } }',
      'model.params.max_leaf_nodes: at most 1024',
    ],
    ['{ type: random_forest, params: { max_depth: 1000 } }', 'model.params.max_depth: at most 64 (got 1000)'],
    ['{ type: knn, params: { k: 100000 } }', 'model.params.k: at most 1000 (got 100000)'],
    [
      '{ type: mlp, params: { hidden: [4096, 4096] } }',
      'model.params.hidden.0: at most 1024 units per layer (got 4096)',
    ],
    ['{ type: mlp, params: { batch_size: 1000000 } }', 'model.params.batch_size: at most 4096 (got 1000000)'],
    [
      '{ type: logistic, params: { max_iter: abc } }',
      'model.params.max_iter: expected a whole number, got `abc`',
    ],
    [
      '{ type: random_forest, tuning: { space: { n_estimators: [100, 100000000] } } }',
      'model.tuning.space.n_estimators.1: at most 2000 (got 100000000)',
    ],
    [
      '{ type: knn, tuning: { method: random, trials: 100000, space: { k: [1, 5] } } }',
      'model.tuning.trials',
    ],
  ])('%s is refused, naming the field', (model, message) => {
    const source = model.includes('logistic') ? undefined : '{ type: synthetic, generator: housing }';
    const text = model.includes('logistic')
      ? yaml(model).replace('task: regression', 'task: classification')
      : yaml(model, source);
    expect(() => parseSpec(text, 'big.yaml')).toThrow(message);
  });

  it('bounds a synthetic source as the run param is bounded', () => {
    expect(() =>
      parseSpec(
        yaml('{ type: linear }', '{ type: synthetic, generator: housing, rows: 100000000 }'),
        'big.yaml',
      ),
    ).toThrow('source.rows: at most 5000000 (got 100000000)');
  });
});

describe('a schema refusal inside a worker thread', () => {
  it('comes back readable and fatal, not as the first line of its JSON', async () => {
    const executor = createThreadExecutor(new URL('../../src/stages/index.ts', import.meta.url));
    const request: StageRequest = {
      run: {
        id: 'r',
        number: 1,
        pipeline: 'big',
        kind: 'train',
        requestedBy: 'alice',
        params: {},
        spec: { ...SPECS[0], model: { type: 'random_forest', params: { n_estimators: 100000000 } } },
      },
      stage: 'train',
      attempt: 1,
      inputs: {},
    };
    const failed = executor.run(request, { onProgress: () => {}, signal: new AbortController().signal });
    await expect(failed).rejects.toMatchObject({
      message: 'model.params.n_estimators: at most 2000 (got 100000000)',
      fatal: true,
    });
  });
});

/** The CLI on the embedded database, with the stand-in stages: refusals print the rule and start nothing. */
describe('steward run with bad params', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-params-'));
  const pipelines = path.join(dir, 'pipelines');
  fs.mkdirSync(pipelines);
  fs.writeFileSync(
    path.join(pipelines, 'housing.yaml'),
    'name: housing\ntask: regression\nsource: { type: synthetic, generator: housing }\ntarget: price\nmodel: { type: random_forest }\n',
  );
  fs.writeFileSync(
    path.join(pipelines, 'churn.yaml'),
    'name: churn\ntask: classification\nsource: { type: synthetic }\ntarget: churned\nmodel: { type: logistic }\n',
  );
  const env = {
    STEWARD_DATA_DIR: path.join(dir, 'data'),
    STEWARD_PIPELINES_DIR: pipelines,
    DATABASE_URL: '',
  };
  beforeAll(() => seedDataDir(env.STEWARD_DATA_DIR));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses oversized, mistyped and unknown params, and no run exists afterwards', async () => {
    for (const [args, message] of [
      [['housing', 'n_estimators=100000000'], 'n_estimators: at most 2000 (got 100000000)'],
      [['churn', 'max_iter=abc'], 'max_iter: expected a whole number, got `abc`'],
      [
        ['housing', 'foo=bar'],
        'foo: not a parameter of housing (random_forest, synthetic source); it takes n_estimators, max_depth, min_samples_leaf, max_features, seed, rows, drift',
      ],
      [['housing', 'n_estimator=5'], 'n_estimator: not a parameter of housing; did you mean `n_estimators`?'],
    ] as const) {
      expect(await cli(['run', ...args], env)).toEqual({ code: 1, out: '', err: `error: ${message}\n` });
    }
    expect(JSON.parse((await cli(['runs', '--json'], env)).out)).toEqual([]);
  });

  it('starts a run whose params are valid', async () => {
    const started = await cli(['run', 'housing', 'n_estimators=50', 'rows=200', '--json'], env);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.out)).toMatchObject({ number: 1, params: { n_estimators: '50', rows: '200' } });
  });
});
