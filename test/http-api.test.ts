import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantRole } from '../src/db/runs-repo.ts';
import { createHttpRunService } from '../src/http/client.ts';
import { createHttpServer } from '../src/http/server.ts';
import { silentLogger } from '../src/log.ts';
import { createMemoryCatalog } from '../src/stages/catalog.ts';
import { createRunService } from '../src/workflows/run-service.ts';
import { backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

describe.each(backends())('REST API on %s', (backend) => {
  let h: EngineHarness;
  let base: string;
  let guarded: string;
  const servers: http.Server[] = [];
  beforeAll(async () => {
    h = await engineHarness(backend);
    const service = createRunService({
      database: h.database,
      engine: h.engine,
      catalog: createMemoryCatalog([demoSpec()]),
    });
    for (const apiToken of [undefined, 's3cret']) {
      servers.push(
        createHttpServer({ service, database: h.database, log: silentLogger, apiToken, version: 'test' }),
      );
    }
    base = await listen(servers[0] as http.Server);
    guarded = await listen(servers[1] as http.Server);
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await h?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}, url = base) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('shows a status page at / with recent runs, escaping what it shows', async () => {
    await grantRole(h.database.db, { userId: '<script>x</script>', role: 'operator', grantedBy: 'test' });
    await createHttpRunService(base).start({
      pipeline: 'demo',
      params: {},
      requestedBy: '<script>x</script>',
    });
    const res = await fetch(`${base}/`);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toContain('Steward test is running');
    expect(html).not.toContain('<script>x');
    expect(html).toContain('&lt;script&gt;x&lt;/script&gt;');
  });

  it('answers /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      database: { kind: backend === 'postgres' ? 'postgres' : 'pglite', ok: true },
    });
  });

  it('starts, lists, shows and approves runs through the client the CLI uses', async () => {
    const client = createHttpRunService(base);
    const { run } = await client.start({ pipeline: 'demo', params: { max_iter: '3' }, requestedBy: 'alice' });
    expect(run).toMatchObject({ state: 'queued', params: { max_iter: '3' }, requestedBy: 'alice' });
    await h.drain();
    expect((await client.list({ states: ['awaitingApproval'] })).map((r) => r.number)).toContain(run.number);
    await expect(
      client.act({ run: { number: run.number }, action: 'approve', as: 'alice' }),
    ).rejects.toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringMatching(/four eyes/),
    });
    const first = await client.act({
      run: { number: run.number },
      action: 'approve',
      as: 'bob',
      idempotencyKey: 'k',
    });
    const again = await client.act({
      run: { number: run.number },
      action: 'approve',
      as: 'bob',
      idempotencyKey: 'k',
    });
    expect([first.status, again.status]).toEqual(['applied', 'duplicate']);
    const detail = await client.show({ number: run.number });
    expect(detail.timeline.map((e) => e.type)).toContain('approval.grant');
    expect(await client.pipelines()).toEqual(['demo']);
  });

  it('creates one run per Idempotency-Key', async () => {
    const body = { pipeline: 'demo', as: 'alice' };
    const a = await post('/api/runs', body, { 'idempotency-key': 'ci-build-42' });
    const b = await post('/api/runs', body, { 'idempotency-key': 'ci-build-42' });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(((await b.json()) as { run: { number: number } }).run.number).toBe(
      ((await a.json()) as { run: { number: number } }).run.number,
    );
  });

  it('explains bad requests', async () => {
    const notJson = await fetch(`${base}/api/runs`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({
      error: { code: 'BAD_REQUEST', message: 'request body is not valid JSON' },
    });
    const badParams = await post('/api/runs', { pipeline: 'demo', params: { 'bad key': 1 } });
    expect(((await badParams.json()) as { error: { message: string } }).error.message).toMatch(
      /params\.bad key/,
    );
    expect((await post('/api/runs', { pipeline: 'nope' })).status).toBe(404);
    expect((await fetch(`${base}/api/runs/999`)).status).toBe(404);
    expect((await fetch(`${base}/api/runs/abc`)).status).toBe(400);
    for (const number of ['2147483648', '99999999999999999999']) {
      const res = await fetch(`${base}/api/runs/${number}`);
      expect([res.status, await res.json()]).toEqual([
        404,
        { error: { code: 'RUN_NOT_FOUND', message: `there is no run #${number}` } },
      ]);
      expect((await post(`/api/runs/${number}/approve`, { as: 'bob' })).status).toBe(404);
    }
    expect((await fetch(`${base}/api/runs/2147483647`)).status).toBe(404);
    expect((await fetch(`${base}/api/runs/1e3`)).status).toBe(400);
    expect((await fetch(`${base}/nowhere`)).status).toBe(404);
  });

  it('requires the bearer token when one is configured', async () => {
    expect((await fetch(`${guarded}/api/runs`)).status).toBe(401);
    expect((await fetch(`${guarded}/api/runs`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(
      401,
    );
    expect((await fetch(`${guarded}/api/runs`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(
      200,
    );
    expect((await fetch(`${guarded}/healthz`)).status).toBe(200);
  });
});
