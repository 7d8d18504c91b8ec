import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeChat, type FakeChat } from '../../src/bot/chat-fake.ts';
import { rulesIntentParser } from '../../src/bot/commands/llm.ts';
import { type ChatHandlers, createChatHandlers } from '../../src/bot/handlers/index.ts';
import { cardFor } from '../../src/bot/views/approval-card.ts';
import { DETAILS_ACTION, RETRAIN_ACTION, SNOOZE_ACTION } from '../../src/bot/views/drift-alert.ts';
import { alertEvents, driftAlerts, runs } from '../../src/db/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { ingest } from '../../src/stages/pipeline/ingest.ts';
import { createStageStore } from '../../src/stages/store.ts';
import { manualClock } from '../../src/workflows/clock.ts';
import { createMonitoring, type Monitoring } from '../../src/workflows/monitoring.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunService, type RunService } from '../../src/workflows/run-service.ts';
import { type Backend, backends } from '../helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness, stageRequest } from '../helpers/engine.ts';
import { deployChurnModel, logPredictions } from '../helpers/monitoring.ts';

const PIPELINE = 'churn';
const SPEC = demoSpec({
  name: PIPELINE,
  source: { type: 'synthetic', generator: 'churn' },
  features: { pii: ['customer_id', 'email'] },
  monitoring: { schedule: '0 * * * *', window: 2000 },
});
const CHANNEL = '#ml-alerts';

/** The alert's buttons, pressed by people with different roles (alice operator, victor viewer). */
describe.each(backends())('a drift alert’s buttons (%s)', (backend: Backend) => {
  let h: EngineHarness;
  let service: RunService;
  let monitoring: Monitoring;
  let chat: FakeChat;
  let handlers: ChatHandlers;
  const clock = manualClock(new Date('2026-12-02T08:00:00Z'));
  const value = JSON.stringify({ alert: 1 });

  beforeAll(async () => {
    h = await engineHarness(backend, { specs: [SPEC] });
    const catalog = createMemoryCatalog([SPEC]);
    service = createRunService({ database: h.database, engine: h.engine, catalog });
    monitoring = createMonitoring({ database: h.database, catalog, clock, log: silentLogger, runs: service });
    chat = createFakeChat('console');
    handlers = createChatHandlers(
      {
        database: h.database,
        service,
        roles: createRoleService({ database: h.database }),
        jobs: h.jobs,
        intents: rulesIntentParser,
        monitoring,
        log: silentLogger,
      },
      chat,
    );
    const loaded = await deployChurnModel(h.database, PIPELINE);
    await logPredictions(h.database, loaded, { rows: 2000, seed: 1, shift: 0.3 });
    clock.advance(3_600_000);
    const outcome = await monitoring.check({
      pipeline: PIPELINE,
      trigger: 'schedule',
      tickAt: await clock.now(h.database.db),
    });
    expect(outcome).toMatchObject({ alert: { number: 1, action: 'fire' } });
  }, 60_000);
  afterAll(() => h?.close());

  async function press(user: string, action: string, trigger?: string): Promise<string[]> {
    const since = chat.calls.length;
    await handlers.action(
      {
        action,
        value,
        user,
        channel: CHANNEL,
        message: { channel: CHANNEL, id: '1' },
        ...(trigger ? { trigger } : {}),
      },
      { key: `test:${randomUUID()}`, credential: `test:${user}` },
    );
    return chat.calls
      .slice(since)
      .flatMap((c) => (c.method === 'postEphemeral' && c.user === user ? [c.message.text] : []));
  }

  const runCount = async () => (await h.database.db.select({ id: runs.id }).from(runs)).length;

  it('refuses [Retrain now] from a viewer, naming the role it needs, and starts nothing', async () => {
    const before = await runCount();
    const answers = await press('victor', RETRAIN_ACTION);
    expect(answers.join('\n')).toMatch(/operator role on churn to retrain it \(you are viewer\)/);
    expect(await runCount()).toBe(before);
    const [alert] = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.number, 1));
    expect(alert?.retrainRun).toBeNull();
  });

  it('starts a run from an operator’s click that stops at the approval gate, its card saying the drift alert started it', async () => {
    const before = await runCount();
    expect(await press('alice', RETRAIN_ACTION)).toEqual([]);
    expect(await runCount()).toBe(before + 1);
    await h.drain();
    const [alert] = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.number, 1));
    const detail = await service.show({ id: alert?.retrainRun as string });
    expect(detail.run).toMatchObject({
      pipeline: PIPELINE,
      state: 'awaitingApproval',
      requestedBy: 'alice',
      cause: { type: 'drift', alert: 1, features: ['monthly_charges'], source: 'source' },
    });
    const card = JSON.stringify(cardFor(detail.run, { timeline: detail.timeline }).blocks);
    expect(card).toContain('Started by drift alert #1 (monthly_charges drifted)');
    expect(card).toContain(CHANNEL);
    expect(detail.timeline[0]?.reason).toContain('started by drift alert #1');
    const events = await h.database.db
      .select()
      .from(alertEvents)
      .where(eq(alertEvents.alertId, alert?.id as string));
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['fired', 'steward'],
      ['retrain', 'alice'],
    ]);
  });

  it('starts no second run when [Retrain now] is pressed again', async () => {
    const before = await runCount();
    const answers = await press('alice', RETRAIN_ACTION);
    expect(answers.join('\n')).toMatch(/started its retrain already: run #\d+/);
    expect(await runCount()).toBe(before);
  });

  it('offers [Retrain now] again once the retrain run ended without deploying', async () => {
    const [alert] = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.number, 1));
    const first = alert?.retrainRun as string;
    await service.act({ run: { id: first }, action: 'cancel', as: 'alice' });
    expect((await monitoring.alert(1)).alert).toMatchObject({ retrainState: 'cancelled' });
    const before = await runCount();
    expect(await press('alice', RETRAIN_ACTION)).toEqual([]);
    expect(await runCount()).toBe(before + 1);
    const [after] = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.number, 1));
    expect(after?.retrainRun).not.toBe(first);
    // And once only: the new run is under way.
    expect((await press('alice', RETRAIN_ACTION)).join('\n')).toMatch(/started its retrain already/);
  });

  it('lets an operator snooze, not a viewer, and records who', async () => {
    expect((await press('victor', SNOOZE_ACTION)).join('\n')).toMatch(/operator role on churn to snooze/);
    expect(await press('alice', SNOOZE_ACTION)).toEqual([]);
    const [alert] = await h.database.db.select().from(driftAlerts).where(eq(driftAlerts.number, 1));
    expect(alert?.snoozedBy).toBe('alice');
    expect(alert?.snoozedUntil?.getTime()).toBe((await clock.now(h.database.db)).getTime() + 24 * 3_600_000);
    expect((await press('alice', SNOOZE_ACTION)).join('\n')).toMatch(/snoozed already/);
  });

  it('opens the report for anyone who presses [Details]', async () => {
    const since = chat.calls.length;
    await press('victor', DETAILS_ACTION, 'trigger-1');
    const modal = chat.calls.slice(since).find((c) => c.method === 'openModal');
    expect(modal?.method === 'openModal' && JSON.stringify(modal.view.blocks)).toContain('monthly_charges');
  });
});

describe('a retrain on feedback (retrain_source: feedback)', () => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness('pglite', { specs: [SPEC] });
  });
  afterAll(() => h?.close());

  it('trains on the labelled predictions only: no shadow scores, no unlabelled rows, the label as the target', async () => {
    const loaded = await deployChurnModel(h.database, PIPELINE);
    await logPredictions(h.database, loaded, { rows: 600, seed: 11 });
    // Label 400 of them (as `POST /v1/models/churn/feedback` does); log a shadow copy of some.
    await h.database.db.execute(
      sql`update predictions set label = to_jsonb(case when row % 3 = 0 then '1' else '0' end), labeled_at = now() where row < 400`,
    );
    await h.database.db.execute(
      sql`insert into predictions (request_id, row, pipeline, version, role, features, prediction, label)
          select request_id, row, pipeline, 2, 'shadow', features, prediction, label from predictions where row < 50`,
    );
    const request = {
      ...stageRequest(SPEC, 'ingest'),
      run: { ...stageRequest(SPEC, 'ingest').run, cause: { source: 'feedback' } },
    };
    const artifacts = await createStageStore().load(h.database.db, request);
    expect(artifacts?.feedback?.rowCount).toBe(400);
    const target = artifacts?.feedback?.columns.find((c) => c.name === 'churned');
    expect(target?.type).toBe('numeric');
    expect(Array.from(target?.values as Float64Array).filter((v) => v === 1)).toHaveLength(134);
    const result = await ingest(
      { ...request, artifacts },
      { progress: () => {}, signal: new AbortController().signal },
    );
    expect(result.output).toMatchObject({ rows: 400 });
    expect(result.artifacts?.newDataset?.source).toEqual({ type: 'feedback', rows: 400 });
    // Without the cause, ingest reads the spec's source as always.
    expect(
      (await createStageStore().load(h.database.db, stageRequest(SPEC, 'ingest')))?.feedback,
    ).toBeUndefined();
  });
});
