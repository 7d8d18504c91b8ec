import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesIntentParser } from '../../src/bot/commands/llm.ts';
import { createConsole } from '../../src/bot/console/console.ts';
import { APPROVE_ACTION, runButtonValue } from '../../src/bot/views/approval-card.ts';
import { findRun } from '../../src/db/runs-repo.ts';
import { consoleMessages } from '../../src/db/schema.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { databaseClock } from '../../src/workflows/clock.ts';
import { createMonitoring } from '../../src/workflows/monitoring.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { API_TOKEN, LOCAL_SECRET, rawRequest, startApi, type TestApi } from '../helpers/api.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';

/**
 * What a web page the user merely opens can send to Steward on localhost: forms, text/plain
 * posts, fetches with a foreign Origin, and (after DNS rebinding) requests for a foreign
 * Host. None of them may change anything; the same request with a credential and JSON works.
 */
describe('cross-site requests', () => {
  let h: EngineHarness;
  let api: TestApi;
  let run: number;
  let session: { cookie: string; csrf: string };
  beforeAll(async () => {
    h = await engineHarness('pglite');
    api = await startApi(h);
    const created = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    run = created.run.number;
    await h.drain();
    // A signed-in browser (the person opened the start URL): its cookie rides along on requests.
    const link = await fetch(`${api.base}/?token=${LOCAL_SECRET}`, { redirect: 'manual' });
    const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    session = { cookie, csrf: await csrfOf(h, cookie) };
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
  });

  const state = async () => (await findRun(h.database.db, { number: run }))?.state;
  const approve = (headers: Record<string, string>, body = '{"as":"steward"}') =>
    fetch(`${api.base}/api/runs/${run}/approve`, { method: 'POST', headers, body });

  it.each([
    ['text/plain, no credential', { 'content-type': 'text/plain', origin: 'https://evil.example' }],
    ['a form body, no credential', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['a multipart form', { 'content-type': 'multipart/form-data; boundary=x' }],
    ['JSON, no credential', { 'content-type': 'application/json' }],
  ])('refuses %s and changes nothing', async (_name, headers) => {
    const res = await approve(headers);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await state()).toBe('awaitingApproval');
  });

  it('refuses a text/plain post even with the session cookie (what a form sends) and changes nothing', async () => {
    const res = await approve({
      'content-type': 'text/plain',
      cookie: session.cookie,
      'x-csrf-token': session.csrf,
    });
    expect(res.status).toBe(415);
    expect(await state()).toBe('awaitingApproval');
  });

  it('refuses a foreign Origin with the session cookie (403) and changes nothing', async () => {
    const res = await approve(
      {
        'content-type': 'application/json',
        origin: 'https://evil.example',
        cookie: session.cookie,
        'x-csrf-token': session.csrf,
      },
      '{}',
    );
    expect(res.status).toBe(403);
    expect(await state()).toBe('awaitingApproval');
  });

  it('refuses a foreign Host (DNS rebinding) with 421, for reads and for changes', async () => {
    for (const path of ['/', '/api/runs']) {
      const res = await rawRequest(api.base, {
        path,
        headers: { host: 'attacker.example:3000', cookie: session.cookie },
      });
      expect(res.status).toBe(421);
    }
    const res = await rawRequest(api.base, {
      method: 'POST',
      path: `/api/runs/${run}/approve`,
      headers: {
        host: 'attacker.example',
        'content-type': 'application/json',
        cookie: session.cookie,
        'x-csrf-token': session.csrf,
      },
      body: '{}',
    });
    expect(res.status).toBe(421);
    expect(await state()).toBe('awaitingApproval');
  });

  it('refuses the session cookie without its CSRF token and changes nothing', async () => {
    const res = await approve({ 'content-type': 'application/json', cookie: session.cookie }, '{}');
    expect(res.status).toBe(403);
    expect(await state()).toBe('awaitingApproval');
  });

  it('never lets anyone claim the system actor, not even an admin', async () => {
    const res = await approve({ 'content-type': 'application/json', authorization: `Bearer ${API_TOKEN}` });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      "Steward's own identity",
    );
    expect(await state()).toBe('awaitingApproval');
  });

  it('takes the same request with a credential and JSON: from the browser session on its own origin, and with a token', async () => {
    const own = await approve(
      {
        'content-type': 'application/json',
        origin: api.base,
        cookie: session.cookie,
        'x-csrf-token': session.csrf,
      },
      '{"as":"bob"}',
    );
    expect(own.status).toBe(200);
    expect(await state()).toBe('deploying');
  });
});

/**
 * The console's action endpoint, where a click on Approve lands: a page on another site
 * that posts there (with or without the person's cookie riding along) changes nothing;
 * the console's own page, with the session's CSRF token, does.
 */
describe('cross-site requests to the console', () => {
  let h: EngineHarness;
  let api: TestApi;
  let run: { number: number; version: number };
  let session: { cookie: string; csrf: string };
  beforeAll(async () => {
    h = await engineHarness('pglite');
    const catalog = createMemoryCatalog([demoSpec()]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    const console = createConsole({
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
      mode: 'on',
    });
    api = await startApi(h, { console });
    await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.drain();
    const found = await findRun(h.database.db, { number: 1 });
    run = { number: 1, version: found?.version ?? 0 };
    const link = await fetch(`${api.base}/?token=${LOCAL_SECRET}`, { redirect: 'manual' });
    const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    session = { cookie, csrf: await csrfOf(h, cookie) };
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
  });

  const state = async () => (await findRun(h.database.db, { number: run.number }))?.state;
  const click = (headers: Record<string, string>, body?: string) =>
    fetch(`${api.base}/api/console/actions`, {
      method: 'POST',
      headers,
      body:
        body ??
        JSON.stringify({ action_id: APPROVE_ACTION, value: runButtonValue(run), click: randomUUID() }),
    });

  it.each([
    [
      'no cookie, no CSRF token, a foreign Origin',
      { 'content-type': 'application/json', origin: 'https://evil.example' },
    ],
    ['no cookie and no CSRF token', { 'content-type': 'application/json' }],
    ['the cookie without the CSRF token', { 'content-type': 'application/json', cookie: 'SESSION' }],
    [
      'the cookie and token from a foreign Origin',
      {
        'content-type': 'application/json',
        origin: 'https://evil.example',
        cookie: 'SESSION',
        'x-csrf-token': 'CSRF',
      },
    ],
    [
      'a form post with the cookie',
      { 'content-type': 'application/x-www-form-urlencoded', cookie: 'SESSION', 'x-csrf-token': 'CSRF' },
    ],
    [
      'a wrong CSRF token',
      { 'content-type': 'application/json', cookie: 'SESSION', 'x-csrf-token': 'not-the-token' },
    ],
  ])('refuses %s, and the run stays at the gate', async (_name, headers: Record<string, string>) => {
    const withSession = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [
        k,
        v === 'SESSION' ? session.cookie : v === 'CSRF' ? session.csrf : v,
      ]),
    );
    const res = await click(withSession);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await state()).toBe('awaitingApproval');
    const messages = await h.database.db.select().from(consoleMessages);
    expect(messages.filter((m) => m.visibleTo === 'local')).toEqual([]);
  });

  it('takes the click from its own page: cookie, CSRF token, own Origin', async () => {
    const res = await click({
      'content-type': 'application/json',
      origin: api.base,
      cookie: session.cookie,
      'x-csrf-token': session.csrf,
    });
    expect(res.status).toBe(200);
    expect(await state()).toBe('deploying');
  });
});

/** The CSRF token the console will hand its page; read from the session row here. */
async function csrfOf(h: EngineHarness, cookie: string): Promise<string> {
  const { findSession } = await import('../../src/db/credentials-repo.ts');
  const session = await findSession(h.database.db, cookie.split('=')[1] ?? '');
  if (!session) throw new Error('the start URL made no session');
  return session.csrf;
}
