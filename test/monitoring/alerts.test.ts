import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeChat, type FakeChat, type FakeChatCall } from '../../src/bot/chat-fake.ts';
import { markAlertOutOfDate } from '../../src/db/chat-outbox.ts';
import { driftAlerts, driftReports } from '../../src/db/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { type LoadedModel, loadModelVersion } from '../../src/stages/serve/loaded-model.ts';
import { manualClock } from '../../src/workflows/clock.ts';
import { type CheckOutcome, createMonitoring, type Monitoring } from '../../src/workflows/monitoring.ts';
import { addRunGauges } from '../../src/workflows/run-gauges.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { type Backend, backends } from '../helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { churnModels, registerVersions, setAlias } from '../helpers/models.ts';
import { alertDelivery, deployChurnModel, logPredictions } from '../helpers/monitoring.ts';
import { decodePng } from '../helpers/png.ts';

const PIPELINE = 'churn';
const SPEC = demoSpec({
  name: PIPELINE,
  source: { type: 'synthetic', generator: 'churn' },
  features: { pii: ['customer_id', 'email'] },
  monitoring: { schedule: '*/15 * * * *', window: 2000, repeat_after: '24h' },
});
const WINDOW = 2000;
const QUARTER_HOUR = 15 * 60_000;

/**
 * A synthetic stream of predictions checked tick by tick, as the scheduler would: the
 * model's real answers to fresh churn rows, with `monthly_charges` shifted by `shift`.
 */
describe.each(backends())('drift alerts over a stream of ticks (%s)', (backend: Backend) => {
  let h: EngineHarness;
  let monitoring: Monitoring;
  let loaded: LoadedModel;
  let chat: FakeChat;
  let deliver: () => Promise<void>;
  const clock = manualClock(new Date('2026-12-02T08:00:00Z'));
  let seed = 1000;
  const metrics = createMetrics({ processMetrics: false });

  beforeAll(async () => {
    h = await engineHarness(backend, { specs: [SPEC] });
    const catalog = createMemoryCatalog([SPEC]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    monitoring = createMonitoring({
      database: h.database,
      catalog,
      clock,
      log: silentLogger,
      runs: service,
      metrics,
    });
    addRunGauges({ metrics, database: h.database, jobs: h.jobs, log: silentLogger });
    loaded = await deployChurnModel(h.database, PIPELINE);
    chat = createFakeChat('console');
    deliver = alertDelivery(h.database, monitoring, chat);
  });
  afterAll(() => h?.close());

  /** Logs a window of predictions as serving would, then runs the tick's check and delivers. */
  async function tick(shift: number): Promise<CheckOutcome> {
    await logPredictions(h.database, loaded, { rows: WINDOW, seed: seed++, shift });
    clock.advance(QUARTER_HOUR);
    const outcome = await monitoring.check({
      pipeline: PIPELINE,
      trigger: 'schedule',
      tickAt: await clock.now(h.database.db),
    });
    await deliver();
    return outcome;
  }

  const posts = () =>
    chat.calls.filter((c): c is Extract<FakeChatCall, { method: 'post' }> => c.method === 'post');
  const uploads = () =>
    chat.calls.filter((c): c is Extract<FakeChatCall, { method: 'upload' }> => c.method === 'upload');

  it('raises no alert over 20 ticks of a stream that does not drift', async () => {
    for (let i = 0; i < 20; i++) {
      const outcome = await tick(0);
      expect(outcome.status).toBe('checked');
      if (outcome.status === 'checked') {
        expect(
          outcome.alert,
          `tick ${i + 1}: ${JSON.stringify(outcome.report.driftedColumns)}`,
        ).toBeUndefined();
      }
    }
    expect(posts()).toHaveLength(0);
    const [reports] = await h.database.db
      .select({ n: count() })
      .from(driftReports)
      .where(eq(driftReports.pipeline, PIPELINE));
    expect(Number(reports?.n)).toBe(20);
  });

  it('pages once when one feature shifts, naming it, with a chart of its histograms', async () => {
    const outcome = await tick(0.15);
    expect(outcome).toMatchObject({ status: 'checked', alert: { number: 1, action: 'fire' } });
    expect(posts()).toHaveLength(1);
    const [page] = posts();
    expect(page?.channel).toBe('#ml-alerts');
    expect(page?.message.text).toContain('monthly_charges');
    const body = JSON.stringify(page?.message.blocks);
    expect(body).toContain('monthly_charges');
    for (const other of ['tenure', 'total_charges', 'plan', 'contract', 'support_calls']) {
      expect(page?.message.text).not.toContain(other);
    }
    expect(body).toContain('drift.retrain');
    // The chart goes into the page's thread: a PNG of reference vs current for that feature.
    expect(uploads()).toHaveLength(1);
    const [upload] = uploads();
    expect(upload?.thread).toBe(page?.ref.id);
    expect(upload?.file.mimeType).toBe('image/png');
    expect(decodePng(upload?.file.content as Buffer)).toMatchObject({ width: 800 });
    expect(upload?.file.title).toContain('monthly_charges');
    // On /metrics: the page, and the latest check's statistic per feature.
    const scraped = await metrics.registry.metrics();
    expect(scraped).toContain('steward_drift_alerts_total{pipeline="churn",kind="fire"} 1');
    expect(scraped).toMatch(
      /steward_drift_score\{pipeline="churn",feature="monthly_charges",test="wasserstein"\} 0\.\d+/,
    );
    expect(scraped).toMatch(/steward_drift_share\{pipeline="churn"\} 0\.1666/);
  });

  it('does not page again on the next tick while nothing got worse', async () => {
    const outcome = await tick(0.15);
    expect(outcome.status === 'checked' && outcome.alert).toBeFalsy();
    expect(posts()).toHaveLength(1);
    expect(uploads()).toHaveLength(1);
  });

  it('pages again once the drift grows by more than a quarter', async () => {
    const outcome = await tick(0.6);
    expect(outcome).toMatchObject({ status: 'checked', alert: { number: 1, action: 'worsen' } });
    expect(posts()).toHaveLength(2);
    expect(uploads()).toHaveLength(2);
    const worse = posts()[1];
    expect(worse?.message.text).toMatch(/^Drift got worse/);
    expect(JSON.stringify(worse?.message.blocks)).toMatch(/monthly_charges \d\.\d+ → \d\.\d+/);
    // Only the newest page keeps the buttons.
    const first = chat.messages.get(posts()[0]?.ref.id as string);
    expect(JSON.stringify(first?.message.blocks)).not.toContain('drift.retrain');
    expect(JSON.stringify(worse?.message.blocks)).toContain('drift.retrain');
  });

  it('replies "resolved" in the thread of the last page when the shift is removed', async () => {
    const outcome = await tick(0);
    expect(outcome).toMatchObject({ status: 'checked', alert: { number: 1, action: 'resolve' } });
    expect(posts()).toHaveLength(3);
    const resolved = posts()[2];
    expect(resolved?.thread).toBe(posts()[1]?.ref.id);
    expect(resolved?.message.text).toMatch(/^✅ Resolved/);
    const [alert] = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.number, 1));
    expect(alert).toMatchObject({ status: 'resolved' });
    // No page of a resolved alert keeps its buttons.
    for (const page of posts().slice(0, 2)) {
      expect(JSON.stringify(chat.messages.get(page.ref.id)?.message.blocks)).not.toContain('drift.retrain');
    }
    // Delivering again (a lost lease, a retry) posts and uploads nothing twice.
    await markAlertOutOfDate(h.database.executor, alert?.id as string);
    await deliver();
    expect(posts()).toHaveLength(3);
    expect(uploads()).toHaveLength(2);
  });

  it('closes an alert when production changes under it, and judges the new version on its own', async () => {
    expect(await tick(0.3)).toMatchObject({ alert: { number: 2, action: 'fire' } });
    const page = posts().at(-1);
    const models = await churnModels();
    const runIds = await registerVersions(
      h.database,
      PIPELINE,
      [{ version: 2, model: models.logistic, modelType: 'logistic' }],
      { transform: models.transform },
    );
    await setAlias(h.database, PIPELINE, { version: 2, runId: runIds.get(2) as string });
    loaded = await loadModelVersion(h.database.db, PIPELINE, 2);
    const before = posts().length;
    expect(await tick(0.3)).toMatchObject({ alert: { number: 3, action: 'fire' } });
    // The two alerts are delivered side by side, so their messages may come in either order.
    const added = posts().slice(before);
    expect(added).toHaveLength(2);
    const closed = added.find((post) => post.thread !== undefined);
    const fired = added.find((post) => post.thread === undefined);
    expect(closed?.thread).toBe(page?.ref.id);
    expect(closed?.message.text).toContain('v2 serves now, so this alert about v1 no longer applies');
    expect(fired?.message.text).toMatch(/^Drift detected in churn v2/);
    const alerts = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.pipeline, PIPELINE));
    expect(alerts.map((a) => [a.number, a.version, a.status]).sort()).toEqual([
      [1, 1, 'resolved'],
      [2, 1, 'resolved'],
      [3, 2, 'firing'],
    ]);
  });
});
