import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeChat, type FakeChat } from '../../src/bot/chat-fake.ts';
import { createNotifier } from '../../src/bot/notifier.ts';
import { APPROVE_ACTION } from '../../src/bot/views/approval-card.ts';
import { chatMessagesOf } from '../../src/db/runs-repo.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { backends } from '../helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';

/**
 * Every run has a message on every surface: where it was asked for, else in its
 * pipeline's channel, so runs started from the CLI or REST are followed in chat too. Each
 * surface's messages are recorded as that surface's, and updated through it.
 */
describe.each(backends())('run announcements on %s', (backend) => {
  let h: EngineHarness;
  let slack: FakeChat;
  let console: FakeChat;
  let notify: { slack: (runId: string) => Promise<void>; console: (runId: string) => Promise<void> };

  beforeAll(async () => {
    const specs = [demoSpec(), demoSpec({ name: 'team', channel: '#churn-team' })];
    h = await engineHarness(backend, { specs });
    const service = createRunService({
      database: h.database,
      engine: h.engine,
      catalog: createMemoryCatalog(specs),
    });
    slack = createFakeChat('slack');
    console = createFakeChat('console');
    const of = (chat: FakeChat) => createNotifier({ database: h.database, service, chat, log: silentLogger });
    notify = { slack: of(slack), console: of(console) };
  });
  afterAll(() => h?.close());

  const both = async (runId: string) => {
    await notify.slack(runId);
    await notify.console(runId);
  };
  const postsOf = (chat: FakeChat) => chat.calls.filter((c) => c.method === 'post');

  it('announces a run started outside chat in the pipeline’s channel on every surface, then keeps it current', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await both(run.id);
    for (const chat of [slack, console]) {
      const [root] = postsOf(chat);
      expect(root).toMatchObject({ channel: '#ml-ops' });
      expect(JSON.stringify(root)).toContain(`#${run.number}`);
    }
    await h.drain();
    await both(run.id);
    for (const chat of [slack, console]) {
      // The same root message, updated in place; an approval card posted in the channel, not the thread.
      expect(postsOf(chat).filter((c) => !('thread' in c && c.thread))).toHaveLength(2);
      const card = postsOf(chat).find((c) => JSON.stringify(c.message).includes(APPROVE_ACTION));
      expect(card).toMatchObject({ channel: '#ml-ops' });
      expect(chat.calls.some((c) => c.method === 'update')).toBe(true);
    }
    const surfaces = async (surface: string) =>
      (await chatMessagesOf(h.database.db, run.id, surface)).map((m) => m.purpose).sort();
    expect(await surfaces('slack')).toContain('approval');
    expect(await surfaces('console')).toContain('approval');
    // Updates go back through the surface that posted the message, to its own ids.
    for (const chat of [slack, console]) {
      const posted = new Set(postsOf(chat).map((c) => ('ref' in c ? c.ref.id : '')));
      const updated = chat.calls.flatMap((c) => (c.method === 'update' ? [c.ref.id] : []));
      expect(updated.every((id) => posted.has(id))).toBe(true);
    }
  });

  it('announces a run where it was asked for on that surface, and in the pipeline’s channel elsewhere', async () => {
    slack.calls.length = 0;
    console.calls.length = 0;
    const { run } = await h.engine.createRun({
      pipeline: 'team',
      requestedBy: 'alice',
      announceIn: { surface: 'slack', channel: 'D_ALICE' },
    });
    await both(run.id);
    expect(postsOf(slack)[0]).toMatchObject({ channel: 'D_ALICE' });
    expect(postsOf(console)[0]).toMatchObject({ channel: '#churn-team' });
    await both(run.id);
    // Announced once on each surface however often it is brought up to date.
    expect(postsOf(slack)).toHaveLength(1);
    expect(postsOf(console)).toHaveLength(1);
  });
});
