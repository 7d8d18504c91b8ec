import type http from 'node:http';
import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatPort, ChatRefused } from '../src/bot/chat.ts';
import { createFakeChat } from '../src/bot/chat-fake.ts';
import { rulesIntentParser } from '../src/bot/commands/llm.ts';
import { createConsoleChat } from '../src/bot/console/chat.ts';
import { CHART_PURPOSE, createNotifier } from '../src/bot/notifier.ts';
import { createSlackBot } from '../src/bot/slack/app.ts';
import { approvalChartPlan } from '../src/bot/views/approval-chart.ts';
import { grantRole } from '../src/db/runs-repo.ts';
import { chatMessages, consoleMessages, stageAttempts } from '../src/db/schema.ts';
import { createHttpServer } from '../src/http/server.ts';
import { createLogger, silentLogger } from '../src/log.ts';
import { createMemoryCatalog } from '../src/stages/catalog.ts';
import { stages } from '../src/stages/index.ts';
import { PipelineSpec } from '../src/stages/spec.ts';
import { createStageStore } from '../src/stages/store.ts';
import { processClock } from '../src/workflows/clock.ts';
import { createMonitoring } from '../src/workflows/monitoring.ts';
import { createRoleService } from '../src/workflows/role-service.ts';
import { createRunEngine, type RunView } from '../src/workflows/run-engine.ts';
import { createRunService, type RunService } from '../src/workflows/run-service.ts';
import { createInlineExecutor } from '../src/workflows/stage-executor.ts';
import { createStageWorker, type StageWorker } from '../src/workflows/stage-worker.ts';
import { backends, type TestDatabase, testDatabase } from './helpers/database.ts';
import { type EngineHarness, engineHarness } from './helpers/engine.ts';
import { type SlackCall, signedHeaders, slashCommand, startFakeSlack } from './helpers/fake-slack.ts';
import { pngHeader } from './helpers/png.ts';
import { eventually } from './helpers/processes.ts';

const SECRET = 'chart-test-signing-secret';

/** A real pipeline on the real stages: 800 synthetic customers, a 160-row holdout. */
const churn = (name = 'churn') =>
  PipelineSpec.parse({
    name,
    task: 'classification',
    source: { type: 'synthetic', generator: 'churn', rows: 800 },
    target: 'churned',
    features: { pii: ['email', 'customer_id'] },
    model: { type: 'logistic' },
  });

type Block = { type: string; elements?: { action_id?: string }[] };
const isCard = (call: SlackCall) =>
  ((call.body.blocks as Block[] | undefined) ?? []).some((b) =>
    (b.elements ?? []).some((e) => e.action_id === 'run.approve'),
  );

/**
 * A real Bolt app behind Steward's HTTP server, the real stages and stage store, and the
 * notifier delivering to a fake Slack API that records files.uploadV2's three calls.
 */
describe.each(backends())('the approval card in Slack carries its chart, on %s', (backend) => {
  let t: TestDatabase;
  let fake: Awaited<ReturnType<typeof startFakeSlack>>;
  let server: http.Server;
  let base: string;
  let worker: StageWorker;
  let service: RunService;
  let deliver: (runId: string) => Promise<void>;

  beforeAll(async () => {
    t = await testDatabase(backend);
    fake = await startFakeSlack();
    const catalog = createMemoryCatalog([churn()]);
    const engine = createRunEngine({ ...t, catalog, clock: processClock, log: silentLogger });
    service = createRunService({ database: t.database, engine, catalog });
    const roles = createRoleService({ database: t.database });
    const bot = createSlackBot(
      { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url },
      {
        database: t.database,
        service,
        roles,
        jobs: t.jobs,
        intents: rulesIntentParser,
        monitoring: createMonitoring({
          database: t.database,
          catalog,
          clock: processClock,
          log: silentLogger,
          runs: service,
        }),
        log: silentLogger,
      },
    );
    deliver = createNotifier({ database: t.database, service, chat: bot.chat, log: silentLogger });
    worker = createStageWorker({
      database: t.database,
      jobs: t.jobs,
      engine,
      executor: createInlineExecutor(stages),
      store: createStageStore(),
      notifiers: { slack: deliver },
      log: silentLogger,
      workerId: 'test',
      pollMs: 50,
    });
    worker.start();
    await grantRole(t.database.db, { userId: 'U_ALICE', role: 'operator', grantedBy: 'test' });
    server = createHttpServer({
      service,
      roles,
      database: t.database,
      log: silentLogger,
      version: 't',
      ...(bot.http ? { slack: bot.http } : {}),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }, 60_000);
  afterAll(async () => {
    await worker?.stop(0);
    server?.close();
    await fake?.close();
    await t?.close();
  });

  it('uploads the ROC chart right after the card, in its channel, once however often the run is delivered', async () => {
    const body = slashCommand('run churn', 'U_ALICE');
    const answer = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: signedHeaders(SECRET, body),
      body,
    });
    expect(answer.status).toBe(200);
    const upload = await eventually(
      async () => fake.uploads.find((u) => u.completed && u.content),
      60_000,
      'a completed upload',
    );
    const card = fake.calls.find((c) => c.method === 'chat.postMessage' && isCard(c)) as SlackCall;
    const number = Number(/#(\d+)/.exec(String(card.body.text))?.[1]);
    expect(number).toBeGreaterThan(0);

    // The bytes Slack received are the PNG announced, 800 pixels wide.
    const png = upload.content as Buffer;
    expect(png.length).toBe(upload.length);
    const header = pngHeader(png);
    expect(header.width).toBe(800);
    expect(header.height).toBeGreaterThan(600);
    expect(header.height).toBeLessThan(1100);
    expect(upload).toMatchObject({
      filename: `churn-${number}-roc.png`,
      altText: expect.stringContaining('AUC'),
    });
    // Shared in the card's channel, not in a thread, saying which run it belongs to.
    expect(upload.completed?.channel_id).toBe(card.body.channel);
    expect(upload.completed?.thread_ts).toBeUndefined();
    expect(upload.completed?.initial_comment).toContain(`#${number} churn: ROC curve`);
    expect(upload.completed?.title).toBe(`#${number} churn: ROC curve`);
    const methods = fake.calls.map((c) => c.method);
    expect(methods.indexOf('files.getUploadURLExternal')).toBeGreaterThan(fake.calls.indexOf(card));
    expect(methods.filter((m) => m === 'files.completeUploadExternal')).toHaveLength(1);

    // Delivered again (a later event, a delivery whose lease ran out): the card is redrawn, nothing uploaded.
    const run = (await service.show({ number })).run;
    expect(run.state).toBe('awaitingApproval');
    const updates = fake.calls.filter((c) => c.method === 'chat.update').length;
    await deliver(run.id);
    await deliver(run.id);
    expect(fake.calls.filter((c) => c.method === 'chat.update').length).toBeGreaterThan(updates);
    expect(fake.uploads).toHaveLength(1);
    expect(fake.calls.filter((c) => c.method === 'files.getUploadURLExternal')).toHaveLength(1);
    const [recorded] = await t.database.db
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.runId, run.id), eq(chatMessages.purpose, CHART_PURPOSE)));
    expect(recorded).toMatchObject({ surface: 'slack', ts: upload.id, channel: card.body.channel });
  }, 90_000);
});

/** The notifier driven by hand over the real stages, with the in-memory chat or the console. */
describe.each(backends())('the approval chart when things go wrong, on %s', (backend) => {
  let h: EngineHarness;
  let service: RunService;
  const lines: string[] = [];
  const log = createLogger({ level: 'warn', destination: { write: (line: string) => lines.push(line) } });
  let next = 0;

  beforeAll(async () => {
    const specs = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => churn(`churn-${n}`));
    h = await engineHarness(backend, { specs, stages, store: createStageStore() });
    service = createRunService({
      database: h.database,
      engine: h.engine,
      catalog: createMemoryCatalog(specs),
    });
  }, 60_000);
  afterAll(async () => h?.close());

  /** A new run of its own pipeline, taken to the approval gate. */
  async function atGate(): Promise<RunView> {
    const pipeline = `churn-${'abcdef'[next++]}`;
    const { run } = await h.engine.createRun({ pipeline, requestedBy: 'alice' });
    await h.drain();
    const shown = (await service.show({ id: run.id })).run;
    expect(shown.state).toBe('awaitingApproval');
    return shown;
  }

  const chartRow = async (runId: string) =>
    (
      await h.database.db
        .select()
        .from(chatMessages)
        .where(and(eq(chatMessages.runId, runId), eq(chatMessages.purpose, CHART_PURPOSE)))
    )[0];

  it('posts the card without a chart when drawing fails, logs why, and never draws again', async () => {
    const run = await atGate();
    const chat = createFakeChat();
    let draws = 0;
    const deliver = createNotifier({
      database: h.database,
      service,
      chat,
      log,
      drawChart: async () => {
        draws++;
        throw new Error('resvg exploded');
      },
    });
    await deliver(run.id);
    await deliver(run.id);
    expect(
      chat.calls.filter((c) => c.method === 'post' && c.message.text.includes('Approval needed')),
    ).toHaveLength(1);
    expect(chat.calls.some((c) => c.method === 'upload')).toBe(false);
    expect(draws).toBe(1);
    expect(await chartRow(run.id)).toMatchObject({ ts: '' });
    expect(
      lines.filter((l) => l.includes('approval chart not drawn') && l.includes('resvg exploded')),
    ).toHaveLength(1);
  });

  it('retries an upload that failed on the next delivery, and gives up on a refusal', async () => {
    const run = await atGate();
    const inner = createFakeChat();
    let failures = 1;
    const flaky: ChatPort = {
      ...inner,
      upload: async (...args) => {
        if (failures-- > 0) throw new Error('socket hang up');
        return inner.upload(...args);
      },
    };
    const deliver = createNotifier({ database: h.database, service, chat: flaky, log });
    await expect(deliver(run.id)).rejects.toThrow('socket hang up');
    expect(await chartRow(run.id)).toBeUndefined();
    await deliver(run.id);
    const uploads = inner.calls.filter((c) => c.method === 'upload');
    expect(uploads).toHaveLength(1);
    expect(
      inner.calls.filter((c) => c.method === 'post' && c.message.text.includes('Approval needed')),
    ).toHaveLength(1);
    expect(await chartRow(run.id)).toMatchObject({ ts: uploads[0]?.ref.id });

    const refused = await atGate();
    const refusing: ChatPort = {
      ...createFakeChat(),
      upload: async () => {
        throw new ChatRefused('Slack refused a message in C1 (missing_scope): add files:write');
      },
    };
    const deliverRefused = createNotifier({ database: h.database, service, chat: refusing, log });
    await deliverRefused(refused.id);
    expect(await chartRow(refused.id)).toMatchObject({ ts: '' });
    expect(lines.some((l) => l.includes('approval chart refused') && l.includes('missing_scope'))).toBe(true);
  }, 60_000);

  it('draws nothing, and fails nothing, for a run evaluated before curves were stored', async () => {
    const run = await atGate();
    await h.database.db
      .update(stageAttempts)
      .set({ output: sql`${stageAttempts.output} - 'curves'` })
      .where(and(eq(stageAttempts.runId, run.id), eq(stageAttempts.stage, 'evaluate')));
    const chat = createFakeChat();
    await createNotifier({ database: h.database, service, chat, log: silentLogger })(run.id);
    expect(
      chat.calls.filter((c) => c.method === 'post' && c.message.text.includes('Approval needed')),
    ).toHaveLength(1);
    expect(chat.calls.some((c) => c.method === 'upload')).toBe(false);
    expect(approvalChartPlan(run, { curves: null, history: null })).toBeNull();
    expect(
      approvalChartPlan(run, { curves: { candidate: { kind: 'roc', points: 'bad' } }, history: null }),
    ).toBeNull();
  });

  it('shows the chart inline in the console, as a PNG data URL', async () => {
    const run = await atGate();
    const chat = createConsoleChat({ database: h.database });
    await createNotifier({ database: h.database, service, chat, log: silentLogger })(run.id);
    const rows = await h.database.db.select().from(consoleMessages);
    const images = rows.flatMap((r) =>
      ((r.blocks as { type: string; image_url?: string }[] | null) ?? []).filter((b) => b.type === 'image'),
    );
    expect(images).toHaveLength(1);
    const url = images[0]?.image_url ?? '';
    expect(url.startsWith('data:image/png;base64,')).toBe(true);
    expect(pngHeader(Buffer.from(url.slice('data:image/png;base64,'.length), 'base64')).width).toBe(800);
    expect(await chartRow(run.id)).toMatchObject({ surface: 'console' });
  });
});
