import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { predictions } from '../../src/db/schema.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createPredictionLog, type LogEntry } from '../../src/stages/serve/prediction-log.ts';
import { backends, type TestDatabase, testDatabase } from '../helpers/database.ts';
import { recordingLogger } from '../helpers/logger.ts';
import { churnModels, registerVersions } from '../helpers/models.ts';

const entry = (pipeline: string, requestId: string, row = 0): LogEntry => ({
  requestId,
  row,
  pipeline,
  version: 1,
  role: 'production',
  features: { tenure: 3 },
  prediction: { label: '1' },
});

describe.each(backends())('prediction log on %s', (backend) => {
  let t: TestDatabase;
  let metrics: Metrics;
  beforeAll(async () => {
    t = await testDatabase(backend);
    metrics = createMetrics({ processMetrics: false });
  });
  afterAll(() => t?.close());

  it('drops what does not fit the buffer, counts it in metrics and says so in the log', async () => {
    const { logger, lines } = recordingLogger();
    const log = createPredictionLog({
      database: t.database,
      log: logger,
      metrics,
      capacity: 5,
      batchSize: 100,
    });
    log.record(Array.from({ length: 8 }, (_, i) => entry('full', `r${i}`)));
    log.record([entry('full', 'r9'), entry('other', 'r10')]);
    expect(log.pending()).toBe(5);
    const dropped = (await metrics.predictionLogDropped.get()).values;
    expect(dropped.find((v) => v.labels.model === 'full')?.value).toBe(4);
    expect(dropped.find((v) => v.labels.model === 'other')?.value).toBe(1);
    // One warning for the first drop; the rest are summed into the next (rate-limited), said at stop.
    const warnings = lines.filter((l) => l.level === 'warn' && /dropped/.test(l.message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({ dropped: { full: 3 }, capacity: 5 });
    await log.stop();
    const after = lines.filter((l) => l.level === 'warn' && /dropped/.test(l.message));
    expect(after.at(-1)?.fields).toMatchObject({ dropped: { full: 1, other: 1 } });
    const written = await t.database.db.select().from(predictions).where(eq(predictions.pipeline, 'full'));
    expect(written).toHaveLength(5);
    expect(
      (await metrics.predictionLogWritten.get()).values.find((v) => v.labels.model === 'full')?.value,
    ).toBe(5);
  });

  it('writes in the background without being asked, and never makes the caller wait', async () => {
    const log = createPredictionLog({
      database: t.database,
      log: recordingLogger().logger,
      metrics,
      flushMs: 20,
    });
    log.start();
    const started = performance.now();
    log.record(Array.from({ length: 50 }, (_, i) => entry('background', 'bg', i)));
    expect(performance.now() - started).toBeLessThan(20);
    const deadline = Date.now() + 2000;
    let n = 0;
    while (Date.now() < deadline && n < 50) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      n = (await t.database.db.select().from(predictions).where(eq(predictions.pipeline, 'background')))
        .length;
    }
    expect(n).toBe(50);
    await log.stop();
  });

  it("prunes rows older than each pipeline's retention", async () => {
    const { transform } = await churnModels();
    await registerVersions(t.database, 'kept', [], { transform, monitoring: { retention: '2h' } });
    await registerVersions(t.database, 'long', [], { transform, monitoring: { retention: '30d' } });
    const log = createPredictionLog({ database: t.database, log: recordingLogger().logger, metrics });
    log.record([entry('kept', 'old'), entry('kept', 'new'), entry('long', 'old')]);
    await log.flush();
    await t.database.db
      .update(predictions)
      .set({ createdAt: sql`now() - interval '3 hours'` })
      .where(eq(predictions.requestId, 'old'));
    expect(await log.prune()).toBe(1);
    const left = await t.database.db
      .select({ pipeline: predictions.pipeline, requestId: predictions.requestId })
      .from(predictions)
      .where(sql`${predictions.pipeline} in ('kept', 'long')`)
      .orderBy(predictions.pipeline, predictions.requestId);
    expect(left).toEqual([
      { pipeline: 'kept', requestId: 'new' },
      { pipeline: 'long', requestId: 'old' },
    ]);
    await log.stop();
  });
});
