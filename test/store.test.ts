import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasets, modelVersions } from '../src/db/schema.ts';
import type { StageRequest } from '../src/stages/stage.ts';
import { createStageStore } from '../src/stages/store.ts';
import { backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';

describe.each(backends())('stage store on %s', (backend) => {
  let h: EngineHarness;
  const store = createStageStore();
  beforeAll(async () => {
    h = await engineHarness(backend);
    await h.database.db.insert(datasets).values({
      hash: 'race-dataset',
      pipeline: 'demo',
      source: {},
      rowCount: 1,
      columns: [],
      profile: {},
      content: Buffer.from('x'),
    });
  });
  afterAll(() => h?.close());

  async function evaluated(): Promise<StageRequest> {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    return {
      run: { ...run, spec: demoSpec(), requestedBy: 'alice', kind: 'train' },
      stage: 'evaluate',
      attempt: 1,
      inputs: {
        ingest: { datasetHash: 'race-dataset' },
        features: { transform: {} },
        train: { model: { kind: 'constant' }, modelType: 'logistic', params: {} },
      },
    };
  }
  const result = { output: { metrics: { accuracy: 0.9 } }, summary: {} };

  it('numbers the versions of two runs that finish evaluating together one after the other', async () => {
    const [first, second] = [await evaluated(), await evaluated()];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let saved: () => void = () => {};
    const firstSaved = new Promise<void>((resolve) => {
      saved = resolve;
    });
    // The first transaction registers its version and stays open; the second one starts meanwhile.
    const one = h.database.db.transaction(async (tx) => {
      const out = await store.save(tx, first, result);
      saved();
      await held;
      return out;
    });
    await firstSaved;
    const two =
      backend === 'postgres' ? h.database.db.transaction((tx) => store.save(tx, second, result)) : undefined; // PGlite runs one transaction at a time: the second starts after the first
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    const a = await one;
    const b = await (two ?? h.database.db.transaction((tx) => store.save(tx, second, result)));
    const versions = [(a.output as { version: number }).version, (b.output as { version: number }).version];
    expect(versions).toEqual([1, 2]);
    const rows = await h.database.db
      .select({ version: modelVersions.version, runId: modelVersions.runId })
      .from(modelVersions)
      .where(eq(modelVersions.pipeline, 'demo'));
    expect(rows.map((r) => r.version).sort()).toEqual([1, 2]);
  });
});
