import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpAccess } from '../src/http/client.ts';
import { CONSOLE_CSP } from '../src/http/routes/console.ts';
import { silentLogger } from '../src/log.ts';
import { createMemoryCatalog } from '../src/stages/catalog.ts';
import { stages } from '../src/stages/index.ts';
import { createStageStore } from '../src/stages/store.ts';
import { databaseClock } from '../src/workflows/clock.ts';
import { createMonitoring } from '../src/workflows/monitoring.ts';
import { createRunService } from '../src/workflows/run-service.ts';
import { startApi, type TestApi } from './helpers/api.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';
import { deployChurnModel, logPredictions } from './helpers/monitoring.ts';
import { pngHeader } from './helpers/png.ts';

const DEMO = demoSpec();
const CHURN = demoSpec({
  name: 'churn',
  source: { type: 'synthetic', generator: 'churn' },
  features: { pii: ['customer_id', 'email'] },
});
const HOSTILE = '<img src=x onerror="alert(1)"> & </td>';

/** The text of an HTML fragment: tags dropped, runs of whitespace made one space. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
/** The `<section id=…>` of a page. */
function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  expect(start, `the page has a #${id} section`).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</section>', start));
}

/**
 * The run and model pages over HTTP, on a Steward with two runs of `demo` over the real
 * stages (v1 deployed, run #2 at the gate against it) and `churn` in production with drifted traffic checked.
 */
describe('run and model pages', () => {
  let h: EngineHarness;
  let api: TestApi;
  const page = async (path: string, user: string | null = 'victor') => {
    const res = await api.call(path, user ? { user } : {});
    return { res, body: res.headers.get('content-type')?.startsWith('image/') ? '' : await res.text() };
  };

  beforeAll(async () => {
    h = await engineHarness('pglite', { specs: [DEMO, CHURN], stages, store: createStageStore() });
    const catalog = createMemoryCatalog([DEMO, CHURN]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    const monitoring = createMonitoring({
      database: h.database,
      catalog,
      clock: databaseClock,
      log: silentLogger,
      runs: service,
    });
    api = await startApi(h, { service, monitoring });
    const as = async (user: string) => createHttpAccess(api.base, await api.tokenOf(user), 'no token');
    const alice = await as('alice');
    const bob = await as('bob');
    await alice.start({ pipeline: 'demo' });
    await h.drain();
    await bob.act({ run: { number: 1 }, action: 'approve' });
    await h.drain();
    await alice.start({ pipeline: 'demo', params: { max_iter: '50' } });
    await h.drain();
    expect((await bob.show({ number: 2 })).run.state).toBe('awaitingApproval');

    const loaded = await deployChurnModel(h.database, 'churn');
    await logPredictions(h.database, loaded, { rows: 1000, seed: 3, shift: 0.4 });
    await alice.checkDrift({ pipeline: 'churn' });
  }, 120_000);
  afterAll(async () => {
    api?.close();
    await h?.close();
  });

  it("shows a run's metrics beside production's, its checks, timeline with actors, attempts and exact spec", async () => {
    const { res, body } = await page('/runs/2');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(res.headers.get('cache-control')).toBe('no-store');

    const evidence = textOf(sectionOf(body, 'evidence'));
    expect(evidence).toMatch(/Production is v1, measured on the same holdout/);
    // This run, production v1 and the difference, with its threshold-free columns empty.
    expect(evidence).toMatch(/roc_auc \d\.\d{3} \d\.\d{3} [+−±]\d\.\d{3}/);
    expect(evidence).toMatch(/Gate: roc_auc/);
    expect(textOf(sectionOf(body, 'checks'))).toMatch(/\d+ passed, 0 failed/);
    const timeline = textOf(sectionOf(body, 'timeline'));
    expect(timeline).toMatch(/run\.submitted/);
    expect(timeline).toMatch(/alice/);
    expect(timeline).toMatch(/evaluating → awaitingApproval/);
    expect(textOf(sectionOf(body, 'attempts'))).toMatch(/Training 1 done test-worker/);
    const spec = sectionOf(body, 'spec');
    expect(spec).toMatch(/name: demo/);
    expect(textOf(sectionOf(body, 'facts'))).toMatch(/Params max_iter=50/);
    expect(sectionOf(body, 'chart')).toContain('<img src="/runs/2/chart.png"');

    // Run #1 went through the gate: who approved it, and the dataset its model was trained on.
    const first = await page('/runs/1');
    const facts = textOf(sectionOf(first.body, 'facts'));
    expect(facts).toMatch(/Approved by bob at/);
    const [v1] = (
      await (await createHttpAccess(api.base, await api.tokenOf('bob'), 'x')).models('demo')
    ).filter((m) => m.version === 1);
    expect(facts).toContain(`hash ${v1?.datasetHash}`);
    // The spec hash is the one its model version was registered with.
    expect(sectionOf(first.body, 'spec')).toContain(`hash <code>${v1?.specHash}</code>`);
    expect(textOf(sectionOf(first.body, 'evidence'))).toMatch(/No model is in production yet/);
  });

  it("draws the run's approval chart as a PNG", async () => {
    const res = await api.call('/runs/2/chart.png', { user: 'victor' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const { width, height } = pngHeader(Buffer.from(await res.arrayBuffer()));
    expect(width).toBeGreaterThan(300);
    expect(height).toBeGreaterThan(200);
  });

  it('shows who serves a model, its versions, the alias history and the latest drift report with its chart', async () => {
    const demo = await page('/models/demo');
    expect(demo.res.status).toBe(200);
    expect(textOf(sectionOf(demo.body, 'serving'))).toMatch(/v1 production 100% #1/);
    const versions = textOf(sectionOf(demo.body, 'versions'));
    expect(versions).toMatch(/v2 logistic/);
    expect(versions).toMatch(/v1 production logistic/);
    expect(textOf(sectionOf(demo.body, 'history'))).toMatch(/deploy v1 #1 alice bob/);
    expect(sectionOf(demo.body, 'runs')).toContain('<a href="/runs/2">#2</a>');
    expect(textOf(sectionOf(demo.body, 'drift'))).toMatch(/No drift check yet/);
    expect((await page('/models/demo/drift.png')).res.status).toBe(404);

    const churn = await page('/models/churn');
    const drift = sectionOf(churn.body, 'drift');
    expect(textOf(drift)).toMatch(/monthly_charges numeric drifted/);
    expect(drift).toContain('<img src="/models/churn/drift.png"');
    const chart = await api.call('/models/churn/drift.png', { user: 'victor' });
    expect(chart.status).toBe(200);
    expect(pngHeader(Buffer.from(await chart.arrayBuffer())).width).toBeGreaterThan(300);
  });

  it('are linked from the status page, which stands at / without the console', async () => {
    const { res, body } = await page('/');
    expect(res.status).toBe(200);
    expect(body).toContain('<a href="/runs/2">#2</a>');
    expect(body).toContain('<a href="/models/demo">demo</a> v1 (production)');
  });

  it('says why a page cannot be shown, as a page: no session, not a number, no such run or model', async () => {
    const signedOut = await page('/runs/1', null);
    expect(signedOut.res.status).toBe(401);
    expect(signedOut.body).toContain('?token=');
    // Followed from another site (Slack), where the Strict session cookie is not sent: loaded again from here.
    const linked = await api.call('/runs/1', { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(linked.status).toBe(200);
    expect(await linked.text()).toContain('<meta http-equiv="refresh" content="0">');
    for (const [path, status, message] of [
      ['/runs/abc', 400, 'abc is not a run number'],
      ['/runs/0', 400, '0 is not a run number'],
      ['/runs/999', 404, 'there is no run #999'],
      ['/runs/99999999999', 404, 'there is no run #99999999999'],
      ['/runs/999/chart.png', 404, 'there is no run #999'],
      ['/models/nope', 404, 'there is no pipeline nope'],
      ['/models/nope/drift.png', 404, 'there is no pipeline nope'],
    ] as const) {
      const { res, body } = await page(path);
      expect([path, res.status]).toEqual([path, status]);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(body).toContain(message);
    }
  });

  it('shows what people wrote as text, never as markup', async () => {
    const bob = createHttpAccess(api.base, await api.tokenOf('bob'), 'x');
    await bob.act({ run: { number: 2 }, action: 'reject', reason: HOSTILE });
    const { body } = await page('/runs/2');
    expect(body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &lt;/td&gt;');
    expect(body).not.toContain('<img src=x');
    expect(textOf(sectionOf(body, 'facts'))).toMatch(/Rejected by bob/);
  });
});
