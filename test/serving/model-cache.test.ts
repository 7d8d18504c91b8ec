import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { productionModels } from '../../src/db/schema.ts';
import { createModelCache, type ModelCache } from '../../src/stages/serve/model-cache.ts';
import { backends, type TestDatabase, testDatabase } from '../helpers/database.ts';
import { recordingLogger } from '../helpers/logger.ts';
import { churnModels, registerVersions, setAlias } from '../helpers/models.ts';

describe.each(backends())('model cache on %s', (backend) => {
  let t: TestDatabase;
  let runs: Map<number, string>;
  const caches: ModelCache[] = [];
  const cache = async (checkMs: number) => {
    const made = createModelCache({ database: t.database, log: recordingLogger().logger, checkMs });
    await made.start();
    caches.push(made);
    return made;
  };
  beforeAll(async () => {
    t = await testDatabase(backend);
    const churn = await churnModels();
    runs = await registerVersions(
      t.database,
      'churn',
      [
        { version: 1, model: churn.gbm, modelType: 'gradient_boosting' },
        { version: 2, model: churn.logistic, modelType: 'logistic' },
      ],
      { transform: churn.transform },
    );
    await setAlias(t.database, 'churn', { version: 1, runId: runs.get(1) as string });
  });
  afterAll(async () => {
    for (const c of caches) await c.stop();
    await t?.close();
  });

  const waitFor = async (cache: ModelCache, version: number, ms: number) => {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if ((await cache.get('churn')).production.version === version) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return Number.POSITIVE_INFINITY;
  };

  it('shares one load among concurrent first requests', async () => {
    const c = await cache(60_000);
    const all = await Promise.all(Array.from({ length: 10 }, () => c.get('churn')));
    expect(new Set(all).size).toBe(1);
    expect(all[0]?.production.version).toBe(1);
  });

  it('swaps within a second of the notification, keeping the old object for those holding it', async () => {
    const c = await cache(60_000); // no generation check in this test's time: the notification does it
    const before = await c.get('churn');
    await setAlias(t.database, 'churn', { version: 2, runId: runs.get(2) as string });
    expect(await waitFor(c, 2, 1000)).toBeLessThan(1000);
    expect(before.production.version).toBe(1);
    expect(before.production.model.nFeatures).toBeGreaterThan(0);
    await setAlias(t.database, 'churn', { version: 1, runId: runs.get(1) as string });
    expect(await waitFor(c, 1, 1000)).toBeLessThan(1000);
  });

  it('catches a change whose notification was lost with the generation check', async () => {
    const c = await cache(200);
    expect((await c.get('churn')).production.version).toBe(1);
    await t.database.db
      .update(productionModels)
      .set({ version: 2, generation: sql`${productionModels.generation} + 1` })
      .where(eq(productionModels.pipeline, 'churn'));
    expect(await waitFor(c, 2, 1500)).toBeLessThan(1500);
  });

  it('says how to list models for one that is not deployed', async () => {
    const c = await cache(60_000);
    await expect(c.get('nosuch')).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringMatching(/`steward models`/),
    });
    await expect(c.version('churn', 7)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
