import fs from 'node:fs';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesIntentParser } from '../../src/bot/commands/llm.ts';
import { createSlackBot } from '../../src/bot/slack/app.ts';
import { formatDetail } from '../../src/cli/format.ts';
import { chatInbox } from '../../src/db/schema.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { createLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { databaseClock } from '../../src/workflows/clock.ts';
import { createMonitoring } from '../../src/workflows/monitoring.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunService, type RunDetail } from '../../src/workflows/run-service.ts';
import { API_TOKEN, rawRequest, startApi, type TestApi } from '../helpers/api.ts';
import { seedDataDir } from '../helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { signedHeaders, slashCommand, startFakeSlack } from '../helpers/fake-slack.ts';
import { cli, PIPELINES } from '../helpers/processes.ts';

type Json = Record<string, unknown> & { error?: { code: string; message: string } };

describe('who is acting', () => {
  let h: EngineHarness;
  let api: TestApi;
  beforeAll(async () => {
    h = await engineHarness('pglite', {
      specs: [demoSpec(), demoSpec({ name: 'quorum', approval: { min_approvals: 2 } })],
    });
    api = await startApi(h, {});
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
  });

  const admin = { authorization: `Bearer ${API_TOKEN}` };
  const send = async (
    method: string,
    path: string,
    json: unknown,
    who: { user?: string; headers?: Record<string, string> },
  ) => {
    const res = await api.call(path, {
      method,
      json,
      ...(who.user ? { user: who.user } : {}),
      ...(who.headers ? { headers: who.headers } : {}),
    });
    return { status: res.status, body: (res.status === 204 ? {} : await res.json()) as Json };
  };
  const start = (pipeline: string, who: { user?: string; headers?: Record<string, string> }, as?: string) =>
    send('POST', '/api/runs', { pipeline, ...(as ? { as } : {}) }, who);
  const act = (
    run: number,
    action: string,
    who: { user?: string; headers?: Record<string, string> },
    as?: string,
  ) => send('POST', `/api/runs/${run}/${action}`, as ? { as } : {}, who);
  async function gated(
    pipeline: string,
    who: { user?: string; headers?: Record<string, string> },
    as?: string,
  ) {
    const started = await start(pipeline, who, as);
    expect(started.status).toBe(201);
    await h.drain();
    return (started.body.run as { number: number }).number;
  }

  it('refuses a non-admin token holder who acts for someone else (403), changing nothing', async () => {
    const run = await gated('demo', { user: 'alice' });
    const res = await act(run, 'approve', { user: 'carol' }, 'bob');
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toMatch(/only an admin can act for someone else; you are carol/);
    const started = await start('demo', { user: 'alice' }, 'bob');
    expect(started.status).toBe(403);
    expect((await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' })).run.number).toBe(run + 1);
  });

  it('records an admin\'s --as as "X via admin", on the timeline and in `steward show`', async () => {
    const run = await gated('demo', { user: 'alice' });
    const res = await act(run, 'approve', { headers: admin }, 'bob');
    expect(res.status).toBe(200);
    const detail = (await (await api.call(`/api/runs/${run}`, { user: 'alice' })).json()) as RunDetail;
    expect(detail.timeline.find((e: { type: string }) => e.type === 'approval.grant')).toMatchObject({
      actor: 'bob',
      via: 'api',
    });
    expect(formatDetail(detail)).toMatch(/approved by bob via api/);
    // Each event keeps the credential it came with.
    const submitted = detail.timeline.find((e) => e.type === 'run.submitted');
    expect(submitted?.detail).toMatchObject({
      credential: expect.stringMatching(/^token tok_\w+ made by test$/),
    });
    const granted = detail.timeline.find((e) => e.type === 'approval.grant');
    expect(granted?.detail).toMatchObject({ credential: 'STEWARD_API_TOKEN' });
    expect(formatDetail(detail)).toMatch(/bob via api +approval\.grant/);
  });

  it('refuses `steward` as an identity from REST, by anyone, for every action', async () => {
    const run = await gated('demo', { user: 'alice' });
    for (const res of [
      await start('demo', { headers: admin }, 'steward'),
      await act(run, 'approve', { headers: admin }, 'steward'),
      await act(run, 'cancel', { user: 'alice' }, 'steward'),
      await send('POST', '/api/roles', { user: 'steward', role: 'viewer' }, { headers: admin }),
      await send('POST', '/api/tokens', { user: 'steward' }, { headers: admin }),
    ]) {
      expect(res.status).toBe(403);
      expect(res.body.error?.message).toContain("Steward's own identity");
    }
  });

  it('keeps four eyes with one credential: an admin cannot approve its own request under another name', async () => {
    const own = await gated('demo', { headers: admin });
    const asBob = await act(own, 'approve', { headers: admin }, 'bob');
    expect(asBob.status).toBe(403);
    expect(asBob.body.error?.message).toMatch(/four eyes/);
    // Nor a run it requested for someone else.
    const forAlice = await gated('demo', { headers: admin }, 'alice');
    const res = await act(forAlice, 'approve', { headers: admin }, 'bob');
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toMatch(
      /api requested run #\d+, so the decision must come from someone else's credential/,
    );
  });

  it('keeps N-of-M with one credential: two names, one token, one approval', async () => {
    const run = await gated('quorum', { user: 'alice' });
    expect((await act(run, 'approve', { headers: admin }, 'bob')).status).toBe(200);
    const second = await act(run, 'approve', { headers: admin }, 'carol');
    expect(second.status).toBe(409);
    expect(second.body.error?.message).toMatch(/already approved/);
    const carol = await act(run, 'approve', { user: 'carol' });
    expect(carol.status).toBe(200);
    expect((carol.body.run as { state: string }).state).toBe('deploying');
  });

  it('manages personal tokens: made by admins, listed and revoked by their owners; a revoked token ends its sessions', async () => {
    // A token cannot make tokens, not even for its own user: they would outlive its revocation.
    expect((await send('POST', '/api/tokens', { name: 'laptop' }, { user: 'alice' })).status).toBe(403);
    expect((await send('POST', '/api/tokens', { user: 'bob' }, { user: 'alice' })).status).toBe(403);
    const mine = await send('POST', '/api/tokens', { user: 'alice', name: 'laptop' }, { headers: admin });
    expect(mine.status).toBe(201);
    expect(mine.body).toMatchObject({
      user: 'alice',
      name: 'laptop',
      createdBy: 'api',
      token: expect.stringMatching(/^stw_/),
    });
    const bobs = await send('POST', '/api/tokens', { user: 'bob' }, { headers: admin });
    expect(bobs.status).toBe(201);
    const token = mine.body.token as string;
    const bearer = { authorization: `Bearer ${token}` };
    const listed = await send('GET', '/api/tokens', undefined, { headers: bearer });
    expect((listed.body.tokens as { user: string }[]).every((t) => t.user === 'alice')).toBe(true);
    expect(JSON.stringify(listed.body)).not.toContain(token);
    // alice cannot even see that bob's token exists
    expect((await send('DELETE', `/api/tokens/${bobs.body.id}`, undefined, { headers: bearer })).status).toBe(
      404,
    );
    const link = await fetch(`${api.base}/?token=${token}`, { redirect: 'manual' });
    const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const session = await api.call('/api/whoami', { headers: { cookie } });
    expect(await session.json()).toMatchObject({
      user: 'alice',
      credential: 'session',
      csrf: expect.any(String),
    });
    expect((await send('DELETE', `/api/tokens/${mine.body.id}`, undefined, { headers: bearer })).status).toBe(
      204,
    );
    expect((await api.call('/api/whoami', { headers: bearer })).status).toBe(401);
    expect((await api.call('/api/whoami', { headers: { cookie } })).status).toBe(401);
  });

  it('keeps a token limited to predictions out of the API and the console', async () => {
    const made = await send(
      'POST',
      '/api/tokens',
      { user: 'svc', name: 'scorer', scope: 'predict' },
      { headers: admin },
    );
    expect(made.status).toBe(201);
    expect(made.body.scope).toBe('predict');
    const bearer = { authorization: `Bearer ${made.body.token as string}` };
    const refused = await send('GET', '/api/runs', undefined, { headers: bearer });
    expect(refused.status).toBe(403);
    expect(JSON.stringify(refused.body)).toMatch(/limited to the prediction endpoints/);
    expect((await start('demo', { headers: bearer })).status).toBe(403);
    const link = await fetch(`${api.base}/?token=${made.body.token as string}`, { redirect: 'manual' });
    expect(link.status).toBe(403);
    expect(link.headers.get('set-cookie')).toBeNull();
    expect(
      (await send('POST', '/api/tokens', { user: 'svc', scope: 'admin' }, { headers: admin })).status,
    ).toBe(400);
  });

  it('signs in only from a link opened by the person, not one another site sends them to', async () => {
    const token = await api.tokenOf('carol');
    const cross = await fetch(`${api.base}/?token=${token}`, {
      redirect: 'manual',
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(cross.status).toBe(403);
    expect(cross.headers.get('set-cookie')).toBeNull();
    const typed = await fetch(`${api.base}/?token=${token}`, {
      redirect: 'manual',
      headers: { 'sec-fetch-site': 'none' },
    });
    expect(typed.status).toBe(303);
  });

  it("answers a foreign Host with 421 unless the bearer token is someone's", async () => {
    const at = (authorization: string) =>
      rawRequest(api.base, { path: '/api/runs', headers: { host: 'attacker.example', authorization } });
    expect((await at('Bearer not-a-token')).status).toBe(421);
    expect((await at(`Bearer ${API_TOKEN}`)).status).toBe(200);
  });

  it('answers malformed queries and paths with 400, not 500', async () => {
    for (const path of [
      '/api/runs?limit=1.5',
      '/api/runs?limit=-1',
      '/api/runs?limit=abc',
      '/api/runs/%E0',
    ]) {
      expect([path, (await api.call(path, { user: 'alice' })).status]).toEqual([path, 400]);
    }
    const missing = await send(
      'POST',
      '/api/roles',
      { user: 'dave', role: 'viewer', pipeline: 'nope' },
      { headers: admin },
    );
    expect(missing.status).toBe(404);
    const shouting = await send('POST', '/api/roles', { user: 'STEWARD', role: 'admin' }, { headers: admin });
    expect(shouting.status).toBe(403);
  });

  it('changes roles only for admins, with the same rules as chat', async () => {
    expect(
      (await send('POST', '/api/roles', { user: 'dave', role: 'approver' }, { user: 'alice' })).status,
    ).toBe(403);
    expect(
      (
        await send(
          'POST',
          '/api/roles',
          { user: 'dave', role: 'approver', pipeline: 'demo' },
          { headers: admin },
        )
      ).status,
    ).toBe(201);
    const who = await send('GET', '/api/whoami', undefined, { user: 'dave' });
    expect(who.body).toMatchObject({
      user: 'dave',
      credential: 'token',
      grants: [{ pipeline: 'demo', role: 'approver' }],
    });
    const roles = await send('GET', '/api/roles', undefined, { user: 'dave' });
    expect(roles.body.grants).toContainEqual(
      expect.objectContaining({ user: 'dave', pipeline: 'demo', role: 'approver', grantedBy: 'api' }),
    );
    expect((await send('DELETE', '/api/roles/dave?pipeline=demo', undefined, { user: 'alice' })).status).toBe(
      403,
    );
    expect(
      (await send('DELETE', '/api/roles/dave?pipeline=demo', undefined, { headers: admin })).status,
    ).toBe(204);
    expect(
      (await send('DELETE', '/api/roles/dave?pipeline=demo', undefined, { headers: admin })).status,
    ).toBe(404);
  });
});

describe('the CLI on the database', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-id-'));
  const env = { STEWARD_DATA_DIR: dir, STEWARD_PIPELINES_DIR: PIPELINES, DATABASE_URL: '' };
  beforeAll(() => seedDataDir(dir));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses --as steward, and acts as local otherwise', async () => {
    const claimed = await cli(['run', 'demo', '--as', 'steward'], env);
    expect(claimed).toMatchObject({ code: 1, err: expect.stringContaining("Steward's own identity") });
    expect((await cli(['runs', '--json'], env)).out.trim()).toBe('[]');
    expect(await cli(['whoami'], env)).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^local, through the database credentials: admin everywhere/),
    });
  });
});

describe('Slack identities', () => {
  const SECRET = 'signing-secret';
  let h: EngineHarness;
  let server: http.Server;
  let base: string;
  let fake: Awaited<ReturnType<typeof startFakeSlack>>;
  const lines: string[] = [];
  beforeAll(async () => {
    h = await engineHarness('pglite');
    fake = await startFakeSlack();
    const catalog = createMemoryCatalog([demoSpec()]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    const roles = createRoleService({ database: h.database });
    const log = createLogger({ level: 'warn', destination: { write: (l: string) => lines.push(l) } });
    const bot = createSlackBot(
      { botToken: 'xoxb-test', signingSecret: SECRET, apiUrl: fake.url },
      {
        database: h.database,
        service,
        roles,
        jobs: h.jobs,
        intents: rulesIntentParser,
        monitoring: createMonitoring({
          database: h.database,
          catalog,
          clock: databaseClock,
          log,
          runs: service,
        }),
        log,
      },
    );
    server = createHttpServer({
      service,
      roles,
      database: h.database,
      log,
      version: 't',
      ...(bot.http ? { slack: bot.http } : {}),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server?.close();
    await fake?.close();
    await h?.close();
  });

  it('refuses a signed request that names `steward` as its user, storing and starting nothing', async () => {
    const body = slashCommand('run demo', 'steward');
    const res = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: signedHeaders(SECRET, body),
      body,
    });
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.database.db.select().from(chatInbox)).toEqual([]);
    expect(await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' })).toMatchObject({
      run: { number: 1 },
    });
    expect(lines.join('')).toContain('names Steward itself');
  });

  it('answers a malformed signed payload with 400 and one log line, and an unsigned one with 401', async () => {
    lines.length = 0;
    for (const body of ['payload=null', 'payload=%5B1%5D', 'payload=%7Bnot-json']) {
      const res = await fetch(`${base}/slack/events`, {
        method: 'POST',
        headers: signedHeaders(SECRET, body),
        body,
      });
      expect(res.status).toBe(400);
    }
    const json = 'null';
    const res = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { ...signedHeaders(SECRET, json), 'content-type': 'application/json' },
      body: json,
    });
    expect(res.status).toBe(400);
    expect(lines.filter((l) => l.includes('payload is not an object'))).toHaveLength(4);
    expect(lines.join('')).not.toMatch(/stack|at .*\.js/);
    const unsigned = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { ...signedHeaders('wrong', 'payload=null') },
      body: 'payload=null',
    });
    expect(unsigned.status).toBe(401);
  });
});
