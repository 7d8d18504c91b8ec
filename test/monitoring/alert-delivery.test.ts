import { WebClient } from '@slack/web-api';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlertNotifier } from '../../src/bot/alert-notifier.ts';
import { ChatRefused } from '../../src/bot/chat.ts';
import { createFakeChat, type FakeChat } from '../../src/bot/chat-fake.ts';
import { createSlackChat, webClientOptions } from '../../src/bot/slack/chat.ts';
import { alertMessages, driftAlerts, runs } from '../../src/db/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import type { LoadedModel } from '../../src/stages/serve/loaded-model.ts';
import { manualClock } from '../../src/workflows/clock.ts';
import { type CheckOutcome, createMonitoring, type Monitoring } from '../../src/workflows/monitoring.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { startFakeSlack } from '../helpers/fake-slack.ts';
import { alertDelivery, deployChurnModel, logPredictions } from '../helpers/monitoring.ts';
import { decodePng } from '../helpers/png.ts';

const SPEC = demoSpec({
  name: 'churn',
  source: { type: 'synthetic', generator: 'churn' },
  features: { pii: ['customer_id', 'email'] },
  monitoring: { schedule: '0 * * * *', window: 2000, on_drift: 'retrain' },
});

/** A chat that refuses uploads for good, as Slack does without `files:write`. */
describe('an alert whose chart is refused, with on_drift: retrain', () => {
  let h: EngineHarness;
  let monitoring: Monitoring;
  let loaded: LoadedModel;
  let chat: FakeChat;
  let deliver: () => Promise<void>;
  const clock = manualClock(new Date('2026-12-02T08:00:00Z'));
  let seed = 1;

  beforeAll(async () => {
    h = await engineHarness('pglite', { specs: [SPEC] });
    const catalog = createMemoryCatalog([SPEC]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    monitoring = createMonitoring({ database: h.database, catalog, clock, log: silentLogger, runs: service });
    loaded = await deployChurnModel(h.database, 'churn');
    chat = createFakeChat('console');
    chat.upload = async () => {
      throw new ChatRefused('Slack refused a message in #ml-alerts (missing_scope): add files:write');
    };
    deliver = alertDelivery(h.database, monitoring, chat);
  }, 60_000);
  afterAll(() => h?.close());

  async function tick(shift: number): Promise<CheckOutcome> {
    await logPredictions(h.database, loaded, { rows: 2000, seed: seed++, shift });
    clock.advance(3_600_000);
    const outcome = await monitoring.check({
      pipeline: 'churn',
      trigger: 'schedule',
      tickAt: await clock.now(h.database.db),
    });
    await deliver();
    return outcome;
  }

  it('pages without the chart, starts the retrain by itself, and still says "resolved" later', async () => {
    expect(await tick(0.3)).toMatchObject({ alert: { number: 1, action: 'fire' } });
    const pages = chat.calls.filter((c) => c.method === 'post' && !c.thread);
    expect(pages).toHaveLength(1);
    // The chart is given up for good, recorded so that no delivery tries it again.
    const recorded = await h.database.db.select().from(alertMessages);
    expect(recorded.find((m) => m.purpose === 'chart:1')).toMatchObject({ ts: '' });
    // on_drift: retrain started the run as Steward, without a click.
    const started = await h.database.db.select().from(runs).where(eq(runs.requestedBy, 'steward'));
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({
      pipeline: 'churn',
      requestedBy: 'steward',
      cause: { alert: 1, type: 'drift' },
    });
    const notes = chat.calls.filter((c) => c.method === 'post' && c.thread);
    expect(notes.map((c) => c.method === 'post' && c.message.text)).toEqual([
      expect.stringMatching(/^🔁 Steward \(`on_drift: retrain`\) started a retrain: run #\d+/),
    ]);

    expect(await tick(0)).toMatchObject({ alert: { number: 1, action: 'resolve' } });
    const after = chat.calls.filter((c) => c.method === 'post' && c.thread);
    expect(after.at(-1)?.method === 'post' && after.at(-1)).toMatchObject({
      message: { text: expect.stringMatching(/^✅ Resolved/) },
    });
    expect(await h.database.db.select().from(runs).where(eq(runs.requestedBy, 'steward'))).toHaveLength(1);
  });
});

describe('a drift alert on Slack', () => {
  let h: EngineHarness;
  let fake: Awaited<ReturnType<typeof startFakeSlack>>;

  beforeAll(async () => {
    h = await engineHarness('pglite', { specs: [SPEC] });
    fake = await startFakeSlack();
  }, 60_000);
  afterAll(async () => {
    await fake?.close();
    await h?.close();
  });

  it('posts the page through the Web API and uploads its chart into the page’s thread, a PNG 800 wide', async () => {
    const catalog = createMemoryCatalog([SPEC]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    const clock = manualClock(new Date('2026-12-02T08:00:00Z'));
    const monitoring = createMonitoring({
      database: h.database,
      catalog,
      clock,
      log: silentLogger,
      runs: service,
    });
    const loaded = await deployChurnModel(h.database, 'churn');
    await logPredictions(h.database, loaded, { rows: 2000, seed: 5, shift: 0.3 });
    const outcome = await monitoring.check({
      pipeline: 'churn',
      trigger: 'schedule',
      tickAt: await clock.now(h.database.db),
    });
    expect(outcome).toMatchObject({ alert: { action: 'fire' } });
    const chat = createSlackChat(new WebClient('xoxb-test', webClientOptions({ apiUrl: fake.url })));
    const [alert] = await h.database.db.select().from(driftAlerts);
    await createAlertNotifier({ database: h.database, monitoring, chat, log: silentLogger })(
      alert?.id as string,
    );
    const page = fake.calls.find((c) => c.method === 'chat.postMessage');
    expect(page?.body).toMatchObject({
      channel: '#ml-alerts',
      text: expect.stringContaining('monthly_charges'),
    });
    expect(fake.uploads).toHaveLength(1);
    const [upload] = fake.uploads;
    expect(upload?.completed).toMatchObject({ thread_ts: expect.any(String) });
    expect(decodePng(upload?.content as Buffer)).toMatchObject({ width: 800 });
    expect(upload?.content?.length).toBe(upload?.length);
  });
});
