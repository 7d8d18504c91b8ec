import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../src/db/runs-repo.ts';
import { createHttpAccess } from '../src/http/client.ts';
import { API_TOKEN, LOCAL_SECRET, startApi, type TestApi } from './helpers/api.ts';
import { backends } from './helpers/database.ts';
import { type EngineHarness, engineHarness } from './helpers/engine.ts';

describe.each(backends())('REST API on %s', (backend) => {
  let h: EngineHarness;
  let api: TestApi;
  beforeAll(async () => {
    h = await engineHarness(backend);
    api = await startApi(h);
  });
  afterAll(async () => {
    api?.close();
    await h?.close();
  });
  const as = async (user: string) => createHttpAccess(api.base, await api.tokenOf(user), 'no token');

  it('signs a browser in from the start URL, then shows the status page, escaping what it shows', async () => {
    await grantRole(h.database.db, { userId: 'x<script>', role: 'operator', grantedBy: 'test' });
    // a user id cannot hold markup, so the escaping is shown with a pipeline-free field: the version
    const signedOut = await fetch(`${api.base}/`);
    expect(signedOut.status).toBe(401);
    expect(await signedOut.text()).toContain('?token=');
    const link = await fetch(`${api.base}/?token=${LOCAL_SECRET}&tab=runs`, { redirect: 'manual' });
    expect(link.status).toBe(303);
    expect(link.headers.get('location')).toBe('/?tab=runs');
    const cookie = link.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^steward_session=[\w-]+;.*HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const page = await fetch(`${api.base}/`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Steward test is running');
    expect((await fetch(`${api.base}/?token=wrong`, { redirect: 'manual' })).status).toBe(401);
  });

  it('answers /healthz without a credential', async () => {
    const res = await fetch(`${api.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      database: { kind: backend === 'postgres' ? 'postgres' : 'pglite', ok: true },
    });
  });

  it('starts, lists, shows and approves runs through the client the CLI uses, as each token says', async () => {
    const alice = await as('alice');
    const { run } = await alice.start({ pipeline: 'demo', params: { max_iter: '3' } });
    expect(run).toMatchObject({ state: 'queued', params: { max_iter: '3' }, requestedBy: 'alice' });
    await h.drain();
    expect((await alice.list({ states: ['awaitingApproval'] })).map((r) => r.number)).toContain(run.number);
    await expect(alice.act({ run: { number: run.number }, action: 'approve' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/four eyes/),
    });
    const bob = await as('bob');
    const first = await bob.act({ run: { number: run.number }, action: 'approve', idempotencyKey: 'k' });
    const again = await bob.act({ run: { number: run.number }, action: 'approve', idempotencyKey: 'k' });
    expect([first.status, again.status]).toEqual(['applied', 'duplicate']);
    const detail = await bob.show({ number: run.number });
    expect(detail.timeline.find((e) => e.type === 'approval.grant')).toMatchObject({
      actor: 'bob',
      via: null,
    });
    expect(await bob.pipelines()).toEqual(['demo']);
  });

  it('creates one run per Idempotency-Key and person, and refuses the key for another request', async () => {
    const post = (user: string, params: Record<string, string> = {}) =>
      api.call('/api/runs', {
        method: 'POST',
        user,
        json: { pipeline: 'demo', params },
        headers: { 'idempotency-key': 'ci-build-42' },
      });
    const numberOf = async (res: Response) => ((await res.json()) as { run: { number: number } }).run.number;
    const a = await post('alice');
    const b = await post('alice');
    expect([a.status, b.status]).toEqual([201, 200]);
    const number = await numberOf(a);
    expect(await numberOf(b)).toBe(number);
    // Someone else's key is theirs: bob's request is not answered with alice's run.
    const bob = await post('bob');
    expect(bob.status).toBe(201);
    expect(await numberOf(bob)).not.toBe(number);
    const other = await post('alice', { max_iter: '3' });
    expect(other.status).toBe(422);
    expect(await other.json()).toEqual({
      error: {
        code: 'KEY_REUSED',
        message: `the idempotency key "ci-build-42" was already used for run #${number} (params {}); send this request with a new key`,
      },
    });
  });

  it('explains bad requests', async () => {
    const post = (path: string, json: unknown) => api.call(path, { method: 'POST', user: 'alice', json });
    const notJson = await api.call('/api/runs', {
      method: 'POST',
      user: 'alice',
      headers: { 'content-type': 'application/json' },
      body: '{oops',
    });
    expect([notJson.status, await notJson.json()]).toEqual([
      400,
      { error: { code: 'BAD_REQUEST', message: 'request body is not valid JSON' } },
    ]);
    const badParams = await post('/api/runs', { pipeline: 'demo', params: { 'bad key': 1 } });
    expect(((await badParams.json()) as { error: { message: string } }).error.message).toMatch(
      /params\.bad key/,
    );
    expect((await post('/api/runs', { pipeline: 'nope' })).status).toBe(404);
    const get = (path: string) => api.call(path, { user: 'alice' });
    expect((await get('/api/runs/999')).status).toBe(404);
    expect((await get('/api/runs/abc')).status).toBe(400);
    for (const number of ['2147483648', '99999999999999999999']) {
      const res = await get(`/api/runs/${number}`);
      expect([res.status, await res.json()]).toEqual([
        404,
        { error: { code: 'RUN_NOT_FOUND', message: `there is no run #${number}` } },
      ]);
      expect((await post(`/api/runs/${number}/approve`, {})).status).toBe(404);
    }
    expect((await get('/api/runs/2147483647')).status).toBe(404);
    expect((await get('/api/runs/1e3')).status).toBe(400);
    expect((await get('/nowhere')).status).toBe(404);
    const big = await post('/api/runs', { pipeline: 'demo', params: { x: 'y'.repeat(70_000) } });
    expect(big.status).toBe(413);
  });

  it('takes STEWARD_API_TOKEN, the local secret and personal tokens, and nothing else', async () => {
    const runs = (authorization?: string) =>
      api.call('/api/runs', authorization ? { headers: { authorization } } : {});
    expect((await runs()).status).toBe(401);
    expect((await runs('Bearer wrong')).status).toBe(401);
    expect((await runs('Basic czNjcmV0')).status).toBe(401);
    expect((await runs(`Bearer ${API_TOKEN}`)).status).toBe(200);
    expect((await runs(`Bearer ${LOCAL_SECRET}`)).status).toBe(200);
    expect((await runs(`Bearer ${await api.tokenOf('victor')}`)).status).toBe(200);
    const who = async (authorization: string) =>
      (await (await api.call('/api/whoami', { headers: { authorization } })).json()) as { user: string };
    expect(await who(`Bearer ${API_TOKEN}`)).toMatchObject({ user: 'api', credential: 'api-token' });
    expect(await who(`Bearer ${LOCAL_SECRET}`)).toMatchObject({ user: 'local', credential: 'local-secret' });
  });
});
