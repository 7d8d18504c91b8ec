import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeChat, type FakeChat } from '../../src/bot/chat-fake.ts';
import { rulesIntentParser } from '../../src/bot/commands/llm.ts';
import { type ChatHandlers, createChatHandlers } from '../../src/bot/handlers/index.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { stages } from '../../src/stages/index.ts';
import { PipelineSpec } from '../../src/stages/spec.ts';
import { createStageStore } from '../../src/stages/store.ts';
import { databaseClock } from '../../src/workflows/clock.ts';
import { createMonitoring } from '../../src/workflows/monitoring.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunService, type RunService } from '../../src/workflows/run-service.ts';
import { backends } from '../helpers/database.ts';
import { type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { allText } from './views/fixtures.ts';

/*
 * Deploy, rollback, promote and history as people type them: `/mlops …` through the chat
 * handlers, Steward's own stages and store, so the production alias moves as it does in
 * production and its history is the real one. Each pipeline is trained by real runs.
 */

const spec = (name: string, extra: Record<string, unknown> = {}) =>
  PipelineSpec.parse({
    name,
    task: 'classification',
    source: { type: 'synthetic', rows: 400 },
    target: 'churned',
    model: { type: 'logistic' },
    approval: { required: false },
    ...extra,
  });

const SPECS = [spec('churn'), spec('split', { deploy: { strategy: 'canary', canary_percent: 10 } })];
const CHANNEL = 'C_ML';

describe.each(backends())('deployments in chat on %s', (backend) => {
  let h: EngineHarness;
  let service: RunService;
  let chat: FakeChat;
  let handlers: ChatHandlers;

  beforeAll(async () => {
    h = await engineHarness(backend, { specs: SPECS, stages, store: createStageStore() });
    const catalog = createMemoryCatalog(SPECS);
    service = createRunService({ database: h.database, engine: h.engine, catalog });
    chat = createFakeChat('console');
    handlers = createChatHandlers(
      {
        database: h.database,
        service,
        roles: createRoleService({ database: h.database }),
        jobs: h.jobs,
        intents: rulesIntentParser,
        monitoring: createMonitoring({
          database: h.database,
          catalog,
          clock: databaseClock,
          log: silentLogger,
          runs: service,
        }),
        log: silentLogger,
      },
      chat,
    );
  }, 60_000);
  afterAll(() => h?.close());

  /** `/mlops <text>` from `user`; then every job it started, to the end. */
  async function command(user: string, text: string): Promise<void> {
    await handlers.command(
      { text, slash: '/mlops', user, channel: CHANNEL },
      { key: `test:${randomUUID()}`, credential: `test:${user}` },
    );
    await h.drain();
  }

  /** What Steward told `user` alone since `since` calls, as text. */
  const answers = (user: string, since: number) =>
    chat.calls
      .slice(since)
      .flatMap((c) => (c.method === 'postEphemeral' && c.user === user ? [c.message] : []))
      .map((m) => allText({ blocks: m.blocks ?? [] }) || m.text);

  async function train(pipeline: string): Promise<void> {
    const { run } = await service.start({ pipeline, requestedBy: 'alice' });
    await h.drain();
    expect((await service.show({ id: run.id })).run.state).toBe('deployed');
  }

  it('a deploy of what already serves is answered privately and starts no run', async () => {
    await train('churn');
    const runs = (await service.list()).length;
    const since = chat.calls.length;
    await command('alice', 'deploy churn v1');
    expect(answers('alice', since)).toEqual(['ℹ️ churn v1 is already in production; nothing changed']);
    expect(await service.list()).toHaveLength(runs);
  }, 60_000);

  it('a plain rollback puts back what the last change replaced, not the newest older version', async () => {
    await train('churn');
    await train('churn');
    await command('alice', 'deploy churn v1');
    expect(await service.alias('churn')).toMatchObject({ production: 1 });
    // Newest first: the deploy of v1 replaced v3, so its stored undo is v3. (v1 has no older
    // version at all, which is where guessing "the one before production" ended.)
    await command('alice', 'rollback churn');
    expect(await service.alias('churn')).toMatchObject({ production: 3, strategy: 'replace' });
    const [rollback] = await service.list({ pipeline: 'churn', limit: 1 });
    expect(rollback).toMatchObject({ kind: 'rollback', params: { version: 'v3' }, state: 'deployed' });
    await command('alice', 'rollback churn --to v2');
    expect(await service.alias('churn')).toMatchObject({ production: 2 });
  }, 120_000);

  it('a canary shows in the models list with its share; promote needs an approver, and is told in the channel', async () => {
    await train('split');
    await train('split');
    expect(await service.alias('split')).toMatchObject({ production: 1, strategy: 'canary', candidate: 2 });

    let since = chat.calls.length;
    await command('victor', 'models split');
    const [models] = answers('victor', since);
    expect(models).toContain('⭐ *split* v1 · 90% of traffic');
    expect(models).toContain('🐤 *split* v2 · canary 10%');

    since = chat.calls.length;
    await command('alice', 'promote split');
    expect(answers('alice', since)).toEqual([
      expect.stringContaining('You need the approver role on split to promote (you are operator).'),
    ]);
    expect(await service.alias('split')).toMatchObject({ production: 1, candidate: 2 });

    since = chat.calls.length;
    await command('bob', 'promote split');
    const posted = chat.calls.slice(since).flatMap((c) => (c.method === 'post' ? [c] : []));
    expect(posted).toHaveLength(1);
    expect(posted[0]?.channel).toBe(CHANNEL);
    expect(posted[0]?.message.text).toBe('🏁 split v2 is now production (was v1 with v2 as a 10% canary)');
    expect(allText({ blocks: posted[0]?.message.blocks ?? [] })).toContain('promoted by *bob*');
    expect(await service.alias('split')).toMatchObject({
      production: 2,
      strategy: 'replace',
      candidate: null,
    });
  }, 120_000);

  it('history lists the changes newest first, with runs, people and what was undone', async () => {
    const since = chat.calls.length;
    await command('victor', 'history split');
    const [split] = answers('victor', since);
    const lines = split?.split('\n').filter((l) => /^(🚀|⏪|🏁) \d/.test(l)) ?? [];
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^🏁 .* \*promote\* v2 · by \*bob\* · replaced v1 · \*serving now\*$/);
    expect(lines[1]).toMatch(/^🚀 .* \*deploy\* v1 with v2 as a 10% canary · run #\d+ · by \*alice\*$/);
    expect(lines[2]).toMatch(/^🚀 .* \*deploy\* v1 · run #\d+ · by \*alice\*$/);

    await command('victor', 'history churn');
    const [churn] = answers('victor', since).slice(1);
    expect(churn).toMatch(/⏪ .* \*rollback\* v2 · run #\d+ · by \*alice\* · replaced v3 · \*serving now\*/);
    expect(churn).toMatch(
      /\*deploy\* v1 · run #\d+ · by \*alice\* · replaced v3 · ↩️ undone by a later rollback/,
    );
  }, 60_000);

  it("status N answers with the run's message and a [Details] link to its page", async () => {
    const [run] = await service.list({ pipeline: 'churn', limit: 1 });
    const since = chat.calls.length;
    await command('victor', `status ${run?.number}`);
    const [answer] = chat.calls
      .slice(since)
      .flatMap((c) => (c.method === 'postEphemeral' ? [c.message] : []));
    expect(allText({ blocks: answer?.blocks ?? [] })).toContain(`#${run?.number}`);
    const buttons = (answer?.blocks ?? []).flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons).toContainEqual(
      expect.objectContaining({
        text: expect.objectContaining({ text: 'Details' }),
        url: `/runs/${run?.number}`,
      }),
    );
  }, 60_000);
});
