import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesIntentParser } from '../../src/bot/commands/llm.ts';
import { createConsole } from '../../src/bot/console/console.ts';
import { createNotifier } from '../../src/bot/notifier.ts';
import { APPROVE_ACTION, runButtonValue } from '../../src/bot/views/approval-card.ts';
import { DISMISS_ACTION } from '../../src/bot/views/confirm-card.ts';
import { REJECT_CALLBACK_ID } from '../../src/bot/views/reject-modal.ts';
import { findRun } from '../../src/db/runs-repo.ts';
import { consoleMessages } from '../../src/db/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { databaseClock } from '../../src/workflows/clock.ts';
import { createMonitoring } from '../../src/workflows/monitoring.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { LOCAL_SECRET, startApi, type TestApi } from '../helpers/api.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';

/**
 * What a signed-in person can make of the console's request bodies, which the page sends
 * and anyone with a session can write by hand: a button pressed "on" someone else's
 * message, modal metadata naming another person's channel.
 */
describe('forged console requests', () => {
  let h: EngineHarness;
  let api: TestApi;
  let session: { cookie: string; csrf: string };
  let card: { id: number; text: string; blocks: unknown };

  beforeAll(async () => {
    h = await engineHarness('pglite');
    const service = createRunService({
      database: h.database,
      engine: h.engine,
      catalog: createMemoryCatalog([demoSpec()]),
    });
    const console = createConsole({
      database: h.database,
      service,
      roles: createRoleService({ database: h.database }),
      jobs: h.jobs,
      intents: rulesIntentParser,
      monitoring: createMonitoring({
        database: h.database,
        catalog: createMemoryCatalog([demoSpec()]),
        clock: databaseClock,
        log: silentLogger,
        runs: service,
      }),
      log: silentLogger,
      mode: 'on',
    });
    api = await startApi(h, { console });
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.drain();
    await createNotifier({ database: h.database, service, chat: console.chat, log: silentLogger })(run.id);
    const rows = await h.database.db.select().from(consoleMessages);
    const found = rows.find((r) => JSON.stringify(r.blocks).includes(APPROVE_ACTION));
    if (!found) throw new Error('no approval card in the console');
    card = { id: found.id, text: found.text, blocks: found.blocks };
    const link = await fetch(`${api.base}/?token=${LOCAL_SECRET}`, { redirect: 'manual' });
    const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const whoami = await fetch(`${api.base}/api/whoami`, { headers: { cookie } });
    session = { cookie, csrf: ((await whoami.json()) as { csrf: string }).csrf };
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(`${api.base}/api/console/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf },
      body: JSON.stringify(body),
    });
  const cardNow = async () =>
    (await h.database.db.select().from(consoleMessages).where(eq(consoleMessages.id, card.id)))[0];

  it('does not let Dismiss, pressed "on" the public approval card, wipe its buttons', async () => {
    const res = await post('actions', {
      action_id: DISMISS_ACTION,
      value: '',
      message: { channel: '#ml-ops', id: String(card.id) },
      click: randomUUID(),
    });
    expect(res.status).toBe(200);
    expect(await cardNow()).toMatchObject({ text: card.text, blocks: card.blocks });
  });

  it('answers a reject modal whose metadata names another person’s DM in the submitter’s own DM', async () => {
    const run = await findRun(h.database.db, { number: 1 });
    const res = await post('views', {
      callback_id: REJECT_CALLBACK_ID,
      private_metadata: JSON.stringify({ run: 1, channel: 'dm:ben' }),
      values: { reason: { reason: { value: 'not yet' } } },
      submit: randomUUID(),
    });
    expect(res.status).toBe(200);
    expect(run?.state).toBe('awaitingApproval');
    expect((await findRun(h.database.db, { number: 1 }))?.state).toBe('rejected');
    const rows = await h.database.db.select().from(consoleMessages);
    expect(rows.filter((r) => r.channel === 'dm:ben')).toEqual([]);
    expect(rows.some((r) => r.channel === 'dm:local' && r.visibleTo === 'local')).toBe(true);
  });

  it('still takes a press of a button the message really carries', async () => {
    // The card was redrawn by the rejection; pressing its old Approve is refused by the engine, not ignored.
    const res = await post('actions', {
      action_id: APPROVE_ACTION,
      value: runButtonValue({ number: 1, version: 0 }),
      message: { channel: '#ml-ops', id: String(card.id) },
      click: randomUUID(),
    });
    expect(res.status).toBe(200);
    const rows = await h.database.db.select().from(consoleMessages);
    expect(rows.some((r) => r.visibleTo === 'local' && /rejected/.test(r.text))).toBe(true);
  });
});
