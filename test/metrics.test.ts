import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { createToken } from '../src/db/credentials-repo.ts';
import { silentLogger } from '../src/log.ts';
import { createMetrics, type Metrics } from '../src/metrics.ts';
import { createServingStack, type ServingStack } from '../src/stages/serve/index.ts';
import { addRunGauges } from '../src/workflows/run-gauges.ts';
import { rawRequest, startApi, type TestApi } from './helpers/api.ts';
import { backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';
import { churnModels, churnRows, registerVersions, setAlias } from './helpers/models.ts';
import { cli, eventually, kill, type Proc, processEnv, spawnSteward } from './helpers/processes.ts';

const DASHBOARD = new URL('../deploy/grafana/steward.json', import.meta.url);

/**
 * Whether promtool (Debian's `prometheus` package) is here. In CI a missing promtool fails
 * the run, as the exposition check would otherwise pass by being skipped; elsewhere the
 * check is skipped with a note.
 */
function promtoolAvailable(): boolean {
  if (spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0) return true;
  if (process.env.CI) throw new Error("promtool is missing: install Debian's prometheus package");
  process.stderr.write('promtool check skipped: promtool is missing (apt-get install -y prometheus)\n');
  return false;
}
const hasPromtool = promtoolAvailable();

/** Every PromQL expression of the dashboard, and the series its template variables read. */
function dashboardQueries(): { exprs: string[]; variableSeries: string[] } {
  type Panel = { targets?: { expr?: string }[]; panels?: Panel[] };
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as {
    panels: Panel[];
    templating: { list: { query: { query: string } | string }[] };
  };
  const exprs: string[] = [];
  const walk = (panels: Panel[]) => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(panel.panels ?? []);
    }
  };
  walk(dashboard.panels);
  const variableSeries = dashboard.templating.list.map((v) => {
    const query = typeof v.query === 'string' ? v.query : v.query.query;
    const series = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(query)?.[1];
    if (!series) throw new Error(`template variable query not understood: ${query}`);
    return series;
  });
  return { exprs, variableSeries };
}

/**
 * The series names a PromQL expression selects: what is left once strings, label matchers,
 * ranges and `by (…)` lists are cut out, and is not a function call or a number.
 */
function seriesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '');
  const names = [...bare.matchAll(/[a-zA-Z_:][\w:]*(?!\w)(?!\s*\()/g)].map((m) => m[0]);
  return [...new Set(names)];
}

/** The sample lines of an exposition, by series name (`x_bucket`, `x_sum`, `x_count` as they are). */
function samplesOf(exposition: string): Map<string, string[]> {
  const samples = new Map<string, string[]>();
  for (const line of exposition.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const name = /^[a-zA-Z_:][\w:]*/.exec(line)?.[0] ?? '';
    samples.set(name, [...(samples.get(name) ?? []), line]);
  }
  return samples;
}

function promtool(exposition: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('reading the dashboard', () => {
  it('finds the series of an expression, and nothing else', () => {
    expect(
      seriesOf(
        'histogram_quantile(0.95, sum by (le, pipeline) (rate(steward_stage_duration_seconds_bucket{pipeline=~"$pipeline", outcome="done"}[$__rate_interval])))',
      ),
    ).toEqual(['steward_stage_duration_seconds_bucket']);
    expect(seriesOf('sum by (state) (max by (pipeline, state) (steward_runs{pipeline=~"a|b"}))')).toEqual([
      'steward_runs',
    ]);
    expect(seriesOf('rate(a_total[5m]) / rate(b_total[5m])')).toEqual(['a_total', 'b_total']);
  });
});

describe.each(backends())('metrics on %s', (backend) => {
  let h: EngineHarness;
  let metrics: Metrics;
  let api: TestApi;
  let exposition: string;
  let serving: ServingStack;

  beforeAll(async () => {
    metrics = createMetrics();
    h = await engineHarness(backend, {
      specs: [demoSpec(), demoSpec({ name: 'fragile', retries: 1 })],
      metrics,
    });
    addRunGauges({ metrics, database: h.database, jobs: h.jobs, log: silentLogger });
    serving = createServingStack({
      database: h.database,
      log: silentLogger,
      metrics,
      predictionLog: { capacity: 2 },
    });
    await serving.start();
    api = await startApi(h, {
      metrics,
      metricsAuth: 'token',
      serving: { service: serving, auth: 'token' },
    });

    // A run through to deployed, and one whose checks fail once, then pass, and wait at the gate.
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.drain();
    await h.engine.apply({
      run: { number: run.number },
      event: { type: 'approval.grant' },
      actor: 'bob',
      idempotencyKey: 'approve-1',
    });
    await h.drain();
    await h.engine.createRun({ pipeline: 'fragile', requestedBy: 'alice', params: { fail_checks: '1' } });
    await h.drain();
    // A duplicate is not counted as applied.
    await h.engine.apply({
      run: { number: run.number },
      event: { type: 'approval.grant' },
      actor: 'bob',
      idempotencyKey: 'approve-1',
    });
    // A run waiting in the stage queue, which no one drains.
    await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });

    // Requests that fail: no such run (404), and a route that is not there.
    expect((await api.call('/api/runs/999', { user: 'alice' })).status).toBe(404);
    expect((await api.call('/nowhere', { user: 'alice' })).status).toBe(404);

    // Predictions through the serving endpoint, with a log buffer of 2 rows: 5 rows are
    // answered, 2 logged, 3 dropped.
    const { table, transform, gbm } = await churnModels();
    const runs = await registerVersions(h.database, 'churn', [{ version: 3, model: gbm, modelType: 'gbm' }], {
      transform,
    });
    await setAlias(h.database, 'churn', { version: 3, runId: runs.get(3) as string });
    const predicted = await api.call('/v1/models/churn/predict', {
      method: 'POST',
      json: { instances: churnRows(table, 5) },
      user: 'alice',
    });
    expect(predicted.status).toBe(200);
    await serving.settle();
    await serving.predictionLog.flush();

    const res = await api.call('/metrics', { user: 'alice' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    exposition = await res.text();
  });
  afterAll(async () => {
    api?.close();
    await serving?.stop();
    await h?.close();
  });

  it.skipIf(!hasPromtool)('serves an exposition that promtool check metrics passes', () => {
    const { status, output } = promtool(exposition);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('has a sample of every series the Grafana dashboard queries', () => {
    const { exprs, variableSeries } = dashboardQueries();
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    const queried = new Set([...exprs.flatMap(seriesOf), ...variableSeries]);
    const samples = samplesOf(exposition);
    const missing = [...queried].filter((name) => !samples.has(name));
    expect(missing).toEqual([]);
    expect([...queried].filter((name) => !name.startsWith('steward_'))).toEqual([]);
  });

  it("counts predictions by model, version and role, their latency, and the log's writes and drops", () => {
    const samples = samplesOf(exposition);
    expect(samples.get('steward_predictions_total')).toContain(
      'steward_predictions_total{model="churn",version="3",role="production"} 5',
    );
    expect(samples.get('steward_prediction_duration_seconds_count')).toContain(
      'steward_prediction_duration_seconds_count{model="churn",version="3"} 1',
    );
    expect(samples.get('steward_prediction_log_written_total')).toContain(
      'steward_prediction_log_written_total{model="churn"} 2',
    );
    expect(samples.get('steward_prediction_log_dropped_total')).toContain(
      'steward_prediction_log_dropped_total{model="churn"} 3',
    );
  });

  it('counts runs by pipeline and state, from the database', () => {
    const runs = samplesOf(exposition).get('steward_runs') ?? [];
    expect(runs).toContain('steward_runs{pipeline="demo",state="deployed"} 1');
    expect(runs).toContain('steward_runs{pipeline="demo",state="queued"} 1');
    expect(runs).toContain('steward_runs{pipeline="fragile",state="awaitingApproval"} 1');
  });

  it('measures stage attempts by pipeline, stage and outcome', () => {
    const counts = samplesOf(exposition).get('steward_stage_duration_seconds_count') ?? [];
    expect(counts).toContain(
      'steward_stage_duration_seconds_count{pipeline="demo",stage="deploy",outcome="done"} 1',
    );
    expect(counts).toContain(
      'steward_stage_duration_seconds_count{pipeline="fragile",stage="checks",outcome="failed"} 1',
    );
    expect(counts).toContain(
      'steward_stage_duration_seconds_count{pipeline="fragile",stage="checks",outcome="done"} 1',
    );
    expect(counts.some((l) => l.includes('stage="train"'))).toBe(true);
  });

  it('counts events applied by type, once each (not the duplicate)', () => {
    const events = samplesOf(exposition).get('steward_events_applied_total') ?? [];
    expect(events).toContain('steward_events_applied_total{type="approval.grant"} 1');
    expect(events).toContain('steward_events_applied_total{type="run.submitted"} 3');
    expect(events).toContain('steward_events_applied_total{type="stage.failed"} 1');
  });

  it('shows the stage job that waits in the queue, and every queue', () => {
    const depth = samplesOf(exposition).get('steward_job_queue_depth') ?? [];
    expect(depth).toContain('steward_job_queue_depth{queue="steward_stage"} 1');
    expect(depth).toContain('steward_job_queue_depth{queue="steward_deadline"} 0');
  });

  it('counts errors by code: answered over HTTP and failed stage attempts', () => {
    const errors = samplesOf(exposition).get('steward_errors_total') ?? [];
    expect(errors).toContain('steward_errors_total{code="RUN_NOT_FOUND"} 1');
    expect(errors).toContain('steward_errors_total{code="NOT_FOUND"} 1');
    expect(errors).toContain('steward_errors_total{code="STAGE_FAILED"} 1');
  });

  it('never labels a series with a run id or a user', () => {
    expect(exposition).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(exposition).not.toMatch(/"(alice|bob)"/);
  });
});

describe('GET /metrics auth', () => {
  let h: EngineHarness;
  let tokenApi: TestApi;
  let openApi: TestApi;
  let predictToken: string;

  beforeAll(async () => {
    h = await engineHarness('pglite');
    const metrics = createMetrics({ processMetrics: false });
    metrics.errors.inc({ code: 'BAD_REQUEST' });
    tokenApi = await startApi(h, { metrics, metricsAuth: 'token' });
    openApi = await startApi(h, { metrics, metricsAuth: 'none' });
    predictToken = (
      await createToken(h.database.db, { userId: 'alice', name: 'app', createdBy: 'test', scope: 'predict' })
    ).token;
  });
  afterAll(async () => {
    tokenApi?.close();
    openApi?.close();
    await h?.close();
  });

  it('needs a bearer token when required: none, a wrong one and a predict-only one are refused', async () => {
    const none = await tokenApi.call('/metrics');
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    const wrong = await tokenApi.call('/metrics', { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    const predict = await tokenApi.call('/metrics', { headers: { authorization: `Bearer ${predictToken}` } });
    expect(predict.status).toBe(403);
    expect((await tokenApi.call('/metrics', { user: 'victor' })).status).toBe(200);
    const api = await tokenApi.call('/metrics', { headers: { authorization: 'Bearer s3cret' } });
    expect(await api.text()).toContain('steward_errors_total{code="BAD_REQUEST"} 1');
  });

  it('is not opened by a loopback or an allowed Host: only the token counts', async () => {
    for (const host of ['127.0.0.1', 'localhost']) {
      const res = await rawRequest(tokenApi.base, { path: '/metrics', headers: { host } });
      expect(res.status).toBe(401);
      expect(res.body).not.toContain('steward_');
    }
  });

  it('without a token requirement, answers loopback names only (no foreign Host, even with a bad token)', async () => {
    const ok = await rawRequest(openApi.base, { path: '/metrics', headers: { host: 'localhost:3000' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('steward_errors_total');
    const rebound = await rawRequest(openApi.base, { path: '/metrics', headers: { host: 'evil.example' } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain('steward_');
    const withBadToken = await rawRequest(openApi.base, {
      path: '/metrics',
      headers: { host: 'evil.example', authorization: 'Bearer nope' },
    });
    expect(withBadToken.status).toBe(421);
  });

  it('defaults to token with STEWARD_API_TOKEN or beyond loopback, apart from STEWARD_SERVING_AUTH', () => {
    const auth = (env: NodeJS.ProcessEnv) => loadConfig({ STEWARD_DATA_DIR: '/tmp/x', ...env }).metricsAuth;
    expect(auth({})).toBe('none');
    expect(auth({ STEWARD_API_TOKEN: 't' })).toBe('token');
    expect(auth({ HOST: '0.0.0.0' })).toBe('token');
    expect(auth({ HOST: '0.0.0.0', STEWARD_SERVING_AUTH: 'none' })).toBe('token');
    expect(auth({ HOST: '0.0.0.0', STEWARD_METRICS_AUTH: 'none' })).toBe('none');
    expect(auth({ STEWARD_METRICS_AUTH: 'token' })).toBe('token');
    expect(() => auth({ STEWARD_METRICS_AUTH: 'open' })).toThrow(
      /STEWARD_METRICS_AUTH: must be token or none/,
    );
  });
});

describe.runIf(process.env.DATABASE_URL)('steward worker on PostgreSQL: its metrics port', () => {
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;
  let worker: Proc;
  let base: string;

  beforeAll(async () => {
    ({ env, cleanup } = await processEnv('postgres', { STEWARD_API_TOKEN: 'scrape-me' }));
    expect(env.STEWARD_METRICS_PORT).toBe('0');
    worker = spawnSteward(['worker'], env);
    const port = await eventually(
      async () => /\/healthz and \/metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(worker.output())?.[1],
      30_000,
      `the worker to say its metrics port; output:\n${worker.output()}`,
    );
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    if (worker) await kill(worker, 'SIGTERM');
    await cleanup?.();
  });

  it('answers /healthz with the database and its job loop, without a token', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      database: { kind: 'postgres', ok: true },
      worker: { ok: true },
    });
  });

  it('serves the stage durations it measured on /metrics, to a bearer token only', async () => {
    const started = await cli(['run', 'demo'], { ...env, STEWARD_LOG_LEVEL: 'silent' });
    expect(started.code).toBe(0);
    const scrape = () => fetch(`${base}/metrics`, { headers: { authorization: 'Bearer scrape-me' } });
    const text = await eventually(
      async () => {
        const body = await (await scrape()).text();
        return body.includes(
          'steward_stage_duration_seconds_count{pipeline="demo",stage="evaluate",outcome="done"} 1',
        )
          ? body
          : undefined;
      },
      30_000,
      'the worker to measure the evaluate stage',
    );
    expect(text).toContain('steward_runs{pipeline="demo",state="awaitingApproval"} 1');
    expect(text).toContain('steward_job_queue_depth{queue="steward_stage"} 0');
    expect(text).toMatch(/steward_events_applied_total\{type="stage\.done"\} 5/);
    if (hasPromtool) expect(promtool(text)).toEqual({ status: 0, output: '' });

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const rebound = await rawRequest(base, { path: '/metrics', headers: { host: 'evil.example' } });
    expect(rebound.status).toBe(421);
    expect((await fetch(`${base}/api/runs`)).status).toBe(404);
  });

  it('refuses a metrics port that is taken, naming STEWARD_METRICS_PORT', async () => {
    const port = new URL(base).port;
    const second = spawnSteward(['worker'], { ...env, STEWARD_METRICS_PORT: port });
    expect(await second.exited).not.toBe(0);
    expect(second.output()).toMatch(`port ${port} on 127.0.0.1 is in use; set STEWARD_METRICS_PORT`);
  });
});
