import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/db/credentials-repo.ts';
import { predictions } from '../../src/db/schema.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { createServingStack, type ServingStack } from '../../src/stages/serve/index.ts';
import { rawRequest, startApi, type TestApi } from '../helpers/api.ts';
import { backends } from '../helpers/database.ts';
import { type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { recordingLogger } from '../helpers/logger.ts';
import { type ChurnModels, churnModels, churnRows, registerVersions, setAlias } from '../helpers/models.ts';

type Json = Record<string, unknown>;

describe.each(backends())('model serving over HTTP on %s', (backend) => {
  let h: EngineHarness;
  let api: TestApi;
  let stack: ServingStack;
  let metrics: Metrics;
  let churn: ChurnModels;
  const runIds = new Map<string, Map<number, string>>();

  /** A pipeline with v1 (gradient boosting) and v2 (logistic), v1 in production. */
  async function pipeline(name: string, monitoring: Json = {}) {
    const ids = await registerVersions(
      h.database,
      name,
      [
        { version: 1, model: churn.gbm, modelType: 'gradient_boosting' },
        { version: 2, model: churn.logistic, modelType: 'logistic' },
      ],
      { transform: churn.transform, monitoring },
    );
    runIds.set(name, ids);
    await setAlias(h.database, name, { version: 1, runId: ids.get(1) as string });
    return ids;
  }
  const runOf = (name: string, version: number) => runIds.get(name)?.get(version) as string;

  beforeAll(async () => {
    churn = await churnModels();
    h = await engineHarness(backend);
    metrics = createMetrics({ processMetrics: false });
    stack = createServingStack({
      database: h.database,
      log: recordingLogger().logger,
      metrics,
      cache: { checkMs: 60_000 }, // swaps come from the notification
      predictionLog: { flushMs: 50 },
    });
    await stack.start();
    api = await startApi(h, { metrics, serving: { service: stack, auth: 'none' } });
    for (const name of ['churn', 'shadowed', 'canaried', 'errors', 'feedback', 'kserve'])
      await pipeline(name);
    await pipeline('sampled', { sample_rate: 0.1 });
  });
  afterAll(async () => {
    api?.close();
    await stack?.stop();
    await h?.close();
  });

  const post = async (path: string, json: unknown, headers: Record<string, string> = {}) => {
    const res = await api.call(path, { method: 'POST', json, headers });
    return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
  };
  const logged = async (requestId: string) =>
    h.database.db
      .select()
      .from(predictions)
      .where(eq(predictions.requestId, requestId))
      .orderBy(predictions.row, predictions.role);

  it('answers v1 and v2 with the production version, and with the new one within a second of a swap', async () => {
    const rows = churnRows(churn.table, 3);
    for (const path of ['/v1/models/churn:predict', '/v1/models/churn/predict']) {
      const res = await post(path, { instances: rows });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ model: 'churn', version: 1, versions: [1, 1, 1] });
      expect(res.body.request_id).toEqual(expect.any(String));
      const first = (res.body.predictions as Json[])[0] as { label: string; probabilities: Json };
      expect(['0', '1']).toContain(first.label);
      expect(Object.keys(first.probabilities)).toEqual(['0', '1']);
    }
    const v2 = async () =>
      post('/v2/models/churn/infer', {
        inputs: churn.transform.inputs.map((step) => ({
          name: step.name,
          shape: [1],
          datatype: step.kind === 'categorical' ? 'BYTES' : 'FP64',
          data: [rows[0]?.[step.name]],
        })),
      });
    expect((await v2()).body).toMatchObject({ model_name: 'churn', model_version: '1' });

    // Requests keep coming while the alias moves: none fails, and v2 answers within a second.
    let failures = 0;
    let running = true;
    const traffic = (async () => {
      while (running) {
        const res = await post('/v1/models/churn:predict', { instances: rows });
        if (res.status !== 200) failures += 1;
      }
    })();
    const swapped = Date.now();
    await setAlias(h.database, 'churn', { version: 2, runId: runOf('churn', 2) });
    let version = 1;
    while (version !== 2 && Date.now() - swapped < 3000) {
      version = (await post('/v1/models/churn:predict', { instances: rows })).body.version as number;
    }
    const took = Date.now() - swapped;
    running = false;
    await traffic;
    expect(version).toBe(2);
    expect(took).toBeLessThan(1000);
    expect(failures).toBe(0);
    expect((await v2()).body).toMatchObject({ model_version: '2' });
    const meta = await api.call('/v2/models/churn');
    expect(((await meta.json()) as Json).versions).toEqual(['2']);
  });

  it('scores the shadow beside production, logs both and answers with production', async () => {
    await setAlias(h.database, 'shadowed', {
      version: 1,
      runId: runOf('shadowed', 1),
      strategy: 'shadow',
      candidate: 2,
    });
    await stack.cache.reload('shadowed');
    const res = await post('/v1/models/shadowed:predict', { instances: churnRows(churn.table, 2) });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 1, versions: [1, 1] });
    await stack.settle();
    await stack.predictionLog.flush();
    const rows = await logged(res.body.request_id as string);
    expect(rows.map((r) => [r.row, r.role, r.version])).toEqual([
      [0, 'production', 1],
      [0, 'shadow', 2],
      [1, 'production', 1],
      [1, 'shadow', 2],
    ]);
    expect(rows[0]?.prediction).toEqual((res.body.predictions as unknown[])[0]);
  });

  it('splits a canary by a stable hash of the entity key: the same customer always meets the same version', async () => {
    await setAlias(h.database, 'canaried', {
      version: 1,
      runId: runOf('canaried', 1),
      strategy: 'canary',
      candidate: 2,
      canaryPercent: 30,
      canaryKey: 'customer_id',
    });
    await stack.cache.reload('canaried');
    const rows = churnRows(churn.table, 2000);
    const once = await stack.predict({ model: 'canaried', rows });
    const share = once.rows.filter((r) => r.model.version === 2).length / rows.length;
    expect(Math.abs(share * 100 - 30)).toBeLessThanOrEqual(3);
    // Asked again, one row at a time and over HTTP, every customer meets the same version.
    const sample = rows.slice(0, 40);
    for (const [i, row] of sample.entries()) {
      const res = await post('/v1/models/canaried:predict', { instances: [row] });
      expect(res.body.versions).toEqual([once.rows[i]?.model.version]);
      expect(res.body.version).toBe(once.rows[i]?.model.version);
    }
    const both = await post('/v1/models/canaried:predict', { instances: sample });
    expect(new Set(both.body.versions as number[])).toEqual(new Set([1, 2]));
  });

  it('splits a canary without a key at random, within 3 points of its percent over 2,000 requests', async () => {
    await setAlias(h.database, 'canaried', {
      version: 1,
      runId: runOf('canaried', 1),
      strategy: 'canary',
      candidate: 2,
      canaryPercent: 20,
      canaryKey: null,
    });
    await stack.cache.reload('canaried');
    const [row] = churnRows(churn.table, 1);
    let canary = 0;
    for (let i = 0; i < 2000; i++) {
      const result = await stack.predict({ model: 'canaried', rows: [row] });
      if (result.rows[0]?.role === 'canary') canary += 1;
    }
    expect(Math.abs((canary / 2000) * 100 - 20)).toBeLessThanOrEqual(3);
  });

  it('splits on a request header with header:<name>', async () => {
    await setAlias(h.database, 'canaried', {
      version: 1,
      runId: runOf('canaried', 1),
      strategy: 'canary',
      candidate: 2,
      canaryPercent: 50,
      canaryKey: 'header:X-Customer-Id',
    });
    await stack.cache.reload('canaried');
    const rows = churnRows(churn.table, 1);
    const seen = new Map<string, Set<number>>();
    for (let i = 0; i < 60; i++) {
      const customer = `c${i % 12}`;
      const res = await post(
        '/v1/models/canaried:predict',
        { instances: rows },
        { 'x-customer-id': customer },
      );
      const versions = seen.get(customer) ?? new Set();
      versions.add(res.body.version as number);
      seen.set(customer, versions);
    }
    expect([...seen.values()].every((v) => v.size === 1)).toBe(true);
    expect(new Set([...seen.values()].flatMap((v) => [...v]))).toEqual(new Set([1, 2]));
  });

  it('speaks the Open Inference Protocol as KServe and Triton document it: metadata and a tabular infer', async () => {
    const meta = await api.call('/v2/models/kserve');
    expect(meta.status).toBe(200);
    const metadata = (await meta.json()) as Json;
    expect(metadata.name).toBe('kserve');
    expect(metadata.versions).toEqual(['1']);
    expect(metadata.platform).toBe('steward');
    expect(metadata.inputs).toEqual([
      { name: 'tenure', datatype: 'FP64', shape: [-1] },
      { name: 'monthly_charges', datatype: 'FP64', shape: [-1] },
      { name: 'total_charges', datatype: 'FP64', shape: [-1] },
      { name: 'plan', datatype: 'BYTES', shape: [-1] },
      { name: 'support_calls', datatype: 'FP64', shape: [-1] },
      { name: 'contract', datatype: 'BYTES', shape: [-1] },
    ]);
    expect(metadata.outputs).toEqual([
      { name: 'predict', datatype: 'BYTES', shape: [-1] },
      { name: 'predict_proba', datatype: 'FP64', shape: [-1, 2], parameters: { labels: ['0', '1'] } },
    ]);
    expect(await (await api.call('/v2/models/kserve/versions/1')).json()).toEqual(metadata);
    expect((await api.call('/v2/health/live')).status).toBe(200);
    expect(await (await api.call('/v2/health/ready')).json()).toEqual({ ready: true });
    expect(await (await api.call('/v2/models/kserve/ready')).json()).toEqual({ name: 'kserve', ready: true });

    // The request form of the protocol's documentation: id, one tensor per column with
    // name/shape/datatype/data (flat), parameters, and the outputs asked for.
    const body = `{
      "id": "42",
      "parameters": { "content_type": "pd" },
      "inputs": [
        { "name": "tenure", "shape": [2], "datatype": "INT64", "data": [1, 60] },
        { "name": "monthly_charges", "shape": [2], "datatype": "FP64", "data": [95.5, 20.25] },
        { "name": "total_charges", "shape": [2], "datatype": "FP64", "data": [95.5, 1215.0] },
        { "name": "plan", "shape": [2], "datatype": "BYTES", "parameters": { "content_type": "str" }, "data": ["premium", "basic"] },
        { "name": "support_calls", "shape": [2, 1], "datatype": "INT32", "data": [[5], [0]] },
        { "name": "contract", "shape": [2], "datatype": "BYTES", "data": ["month", "two_year"] },
        { "name": "email", "shape": [2], "datatype": "BYTES", "data": ["a@example.com", "b@example.com"] }
      ],
      "outputs": [ { "name": "predict_proba" }, { "name": "predict" } ]
    }`;
    const res = await fetch(`${api.base}/v2/models/kserve/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Json;
    expect(answer.model_name).toBe('kserve');
    expect(answer.model_version).toBe('1');
    expect(answer.id).toBe('42');
    const [proba, predict] = answer.outputs as Json[];
    expect(proba).toMatchObject({
      name: 'predict_proba',
      datatype: 'FP64',
      shape: [2, 2],
      parameters: { labels: ['0', '1'] },
    });
    const p = proba?.data as number[];
    expect(p).toHaveLength(4);
    expect((p[0] as number) + (p[1] as number)).toBeCloseTo(1, 12);
    expect(p[1]).toBeGreaterThan(p[3] as number); // a new monthly customer with 5 calls churns more
    expect(predict).toMatchObject({ name: 'predict', datatype: 'BYTES', shape: [2] });
    expect(predict?.data).toEqual([(p[1] as number) > 0.5 ? '1' : '0', (p[3] as number) > 0.5 ? '1' : '0']);
    // The answer is the same through v1, and PII sent along is never logged.
    const v1 = await post('/v1/models/kserve:predict', {
      instances: [
        {
          tenure: 1,
          monthly_charges: 95.5,
          total_charges: 95.5,
          plan: 'premium',
          support_calls: 5,
          contract: 'month',
          email: 'a@example.com',
        },
      ],
    });
    expect((v1.body.predictions as { probabilities: Json }[])[0]?.probabilities['1']).toBeCloseTo(
      p[1] as number,
      12,
    );
    await stack.predictionLog.flush();
    const [row] = await logged('42');
    expect(row?.features).not.toHaveProperty('email');
    expect(Object.keys(row?.features as Json).sort()).toEqual(
      ['contract', 'monthly_charges', 'plan', 'support_calls', 'tenure', 'total_charges'].sort(),
    );

    // KServe's sklearn example: one [N, F] tensor, data nested, without an id or outputs.
    const matrix = await post('/v2/models/kserve/versions/1/infer', {
      id: 'batch 7 of 9', // not usable as a request id (spaces): echoed all the same
      inputs: [
        {
          name: 'input-0',
          shape: [1, 6],
          datatype: 'BYTES',
          data: [[1, 95.5, 95.5, 'premium', 5, 'month']],
        },
      ],
    });
    expect(matrix.status).toBe(200);
    expect(matrix.body.id).toBe('batch 7 of 9');
    expect((matrix.body.parameters as Json).request_id).not.toBe('batch 7 of 9');
    expect((matrix.body.outputs as Json[]).map((o) => o.name)).toEqual(['predict', 'predict_proba']);
    const matrixProba = (matrix.body.outputs as { data: number[] }[])[1]?.data ?? [];
    expect(matrixProba[1]).toBeCloseTo(p[1] as number, 12);

    // Another version than the one in production is loaded on demand; an absent one is a 404.
    const v2 = await post('/v2/models/kserve/versions/2/infer', JSON.parse(body));
    expect(v2.body.model_version).toBe('2');
    const none = await post('/v2/models/kserve/versions/9/infer', JSON.parse(body));
    expect(none.status).toBe(404);
    expect(none.body.error).toMatch(/no model version v9/);
  });

  it('answers bad rows, wrong types, a missing feature, an unknown model, too many rows and non-JSON with a clear 4xx', async () => {
    const [good, other] = churnRows(churn.table, 2);
    const mixed = await post('/v1/models/errors:predict', {
      instances: [
        good,
        { ...other, tenure: 'ten' },
        { ...good, plan: undefined },
        'not a row',
        { ...good, contract: { a: 1 } },
      ],
    });
    expect(mixed.status).toBe(200);
    const predictionsOf = mixed.body.predictions as unknown[];
    expect(predictionsOf[0]).toMatchObject({ label: expect.any(String) });
    expect(predictionsOf.slice(1)).toEqual([null, null, null, null]);
    expect(mixed.body.versions).toEqual([1, null, null, null, null]);
    expect(mixed.body.errors).toEqual([
      { row: 1, field: 'tenure', message: expect.stringMatching(/"tenure" is numeric, but row 1 has "ten"/) },
      { row: 2, field: 'plan', message: expect.stringMatching(/row 2 has no field "plan"/) },
      { row: 3, message: expect.stringMatching(/row 3 is not an object/) },
      { row: 4, field: 'contract', message: expect.stringMatching(/"contract" is categorical, but row 4/) },
    ]);

    const allBad = await post('/v1/models/errors:predict', { instances: [{ ...good, tenure: true }] });
    expect(allBad.status).toBe(400);
    expect(allBad.body.error).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringMatching(/"tenure"/),
    });

    const unknown = await post('/v1/models/nosuch:predict', { instances: [good] });
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as Json).message).toMatch(/no model named "nosuch".*steward models/);
    const unknownV2 = await api.call('/v2/models/nosuch');
    expect(unknownV2.status).toBe(404);
    expect(((await unknownV2.json()) as Json).error).toMatch(/steward models/);

    const tooMany = await post('/v1/models/errors:predict', {
      instances: Array.from({ length: 10_001 }, () => ({})),
    });
    expect(tooMany.status).toBe(413);
    expect((tooMany.body.error as Json).message).toMatch(/at most 10000/);
    const huge = await fetch(`${api.base}/v1/models/errors:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [{ pad: 'x'.repeat(9 * 1024 * 1024) }] }),
    });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as { error: Json }).error.message).toMatch(/8 MB/);

    const form = await fetch(`${api.base}/v1/models/errors:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'instances=1',
    });
    expect(form.status).toBe(415);
    const broken = await fetch(`${api.base}/v1/models/errors:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"instances": [',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: Json }).error.message).toMatch(/not valid JSON/);
    expect((await post('/v1/models/errors:predict', { rows: [good] })).status).toBe(400);

    // v2: errors are {"error": "..."}; one bad row fails the request naming it.
    const inputs = churn.transform.inputs.map((step) => ({
      name: step.name,
      shape: [2],
      datatype: step.kind === 'categorical' ? 'BYTES' : 'FP64',
      data: [good?.[step.name], other?.[step.name]],
    }));
    const missing = await post('/v2/models/errors/infer', {
      inputs: inputs.filter((i) => i.name !== 'plan'),
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/missing: plan/);
    const wrongType = await post('/v2/models/errors/infer', {
      inputs: inputs.map((i) => (i.name === 'tenure' ? { ...i, data: ['1', '2'] } : i)),
    });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toMatch(/"tenure" is FP64, so its data must be numbers/);
    const wrongShape = await post('/v2/models/errors/infer', {
      inputs: inputs.map((i) => (i.name === 'tenure' ? { ...i, shape: [3] } : i)),
    });
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.body.error).toMatch(/"tenure" has shape \[3\] but 2 values/);
    const badOutput = await post('/v2/models/errors/infer', { inputs, outputs: [{ name: 'logits' }] });
    expect(badOutput.status).toBe(400);
    expect(badOutput.body.error).toMatch(/no output "logits"/);
    const noInputs = await post('/v2/models/errors/infer', { id: 'x' });
    expect(noInputs.status).toBe(400);
    expect(typeof noInputs.body.error).toBe('string');
  });

  it('joins feedback to the logged prediction by request id, for every role of the row', async () => {
    const rows = churnRows(churn.table, 2);
    const res = await post(
      '/v1/models/feedback:predict',
      { instances: rows },
      { 'x-request-id': 'order-77' },
    );
    expect(res.body.request_id).toBe('order-77');
    expect(res.headers.get('x-request-id')).toBe('order-77');
    // Straight away: the row may still be in the buffer, which feedback flushes.
    const given = await post('/v1/models/feedback/feedback', { request_id: 'order-77', label: 1, row: 1 });
    expect(given.status).toBe(200);
    expect(given.body).toEqual({ request_id: 'order-77', label: '1', updated: 1 });
    expect(
      (await post('/v1/models/feedback/feedback', { id: 'order-77', label: '0', row: 0 })).body.updated,
    ).toBe(1);
    const labelled = await logged('order-77');
    // Stored as JSON strings (drizzle reads a JSON string that looks like a number back as the number).
    const stored = await h.database.db
      .select({ row: predictions.row, label: sql<string>`${predictions.label}::text` })
      .from(predictions)
      .where(eq(predictions.requestId, 'order-77'))
      .orderBy(predictions.row);
    expect(stored.map((r) => [r.row, r.label])).toEqual([
      [0, '"0"'],
      [1, '"1"'],
    ]);
    expect(labelled.every((r) => r.labeledAt instanceof Date)).toBe(true);

    // Feedback for a prediction still in the write buffer finds it (the buffer is flushed first).
    const slow = createServingStack({
      database: h.database,
      log: recordingLogger().logger,
      metrics: createMetrics({ processMetrics: false }),
      predictionLog: { flushMs: 60_000 },
    });
    await slow.start();
    try {
      await slow.predict({ model: 'feedback', rows, requestId: 'order-78' });
      expect(slow.predictionLog.pending()).toBe(2);
      expect(await slow.feedback({ pipeline: 'feedback', requestId: 'order-78', label: 0 })).toEqual({
        updated: 2,
        label: '0',
      });
    } finally {
      await slow.stop();
    }

    const unknown = await post('/v1/models/feedback/feedback', { request_id: 'never-seen', label: 1 });
    expect(unknown.status).toBe(404);
    expect((unknown.body.error as Json).message).toMatch(/unknown, the request was sampled out.*retention/);
    const wrongLabel = await post('/v1/models/feedback/feedback', { request_id: 'order-77', label: 'maybe' });
    expect(wrongLabel.status).toBe(400);
    expect((wrongLabel.body.error as Json).message).toMatch(
      /"maybe" is not a class of feedback; send one of "0", "1"/,
    );
    expect((await post('/v1/models/feedback/feedback', { label: 1 })).status).toBe(400);

    // A web page of another origin cannot post feedback: not as a form, not as JSON.
    for (const contentType of ['application/json', 'text/plain']) {
      const forged = await rawRequest(api.base, {
        method: 'POST',
        path: '/v1/models/feedback/feedback',
        headers: { 'content-type': contentType, origin: 'https://evil.example' },
        body: JSON.stringify({ request_id: 'order-77', label: 1, row: 0 }),
      });
      expect(forged.status).toBe(403);
    }
    const [row0] = await logged('order-77');
    expect(row0?.label).toBe(0);
  });

  it('logs about a tenth of requests at sample_rate 0.1', async () => {
    const rows = churnRows(churn.table, 1);
    for (let i = 0; i < 1000; i++) await stack.predict({ model: 'sampled', rows });
    await stack.predictionLog.flush();
    const count = (
      await h.database.db
        .select({ id: predictions.id })
        .from(predictions)
        .where(and(eq(predictions.pipeline, 'sampled'), eq(predictions.role, 'production')))
    ).length;
    expect(count).toBeGreaterThanOrEqual(60);
    expect(count).toBeLessThanOrEqual(140);
  });

  it('counts predictions by model, version and role', async () => {
    const { values } = await metrics.predictions.get();
    const of = (model: string, role: string) =>
      values
        .filter((v) => v.labels.model === model && v.labels.role === role)
        .reduce((s, v) => s + v.value, 0);
    expect(of('shadowed', 'shadow')).toBe(2);
    expect(of('canaried', 'canary')).toBeGreaterThan(0);
    expect((await metrics.predictionDuration.get()).values.length).toBeGreaterThan(0);
  });

  describe('with serving auth token', () => {
    let secured: TestApi;
    beforeAll(async () => {
      secured = await startApi(h, { metrics, serving: { service: stack, auth: 'token' } });
    });
    afterAll(() => secured?.close());

    it('requires a live token, and takes a predict-scoped one', async () => {
      const instances = churnRows(churn.table, 1);
      const call = (headers: Record<string, string>) =>
        fetch(`${secured.base}/v1/models/errors:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ instances }),
        });
      const none = await call({});
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: Json }).error.message).toMatch(/--scope predict/);
      expect((await call({ authorization: 'Bearer nope' })).status).toBe(401);
      const { token } = await createToken(h.database.db, {
        userId: 'scorer',
        name: 'batch',
        createdBy: 'local',
        scope: 'predict',
      });
      expect((await call({ authorization: `Bearer ${token}` })).status).toBe(200);
      const v2 = await fetch(`${secured.base}/v2/models/errors`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(v2.status).toBe(200);
      expect((await fetch(`${secured.base}/v2/models/errors`)).status).toBe(401);
      // The same token is refused by the REST API, and a personal one works on serving too.
      expect(
        (await secured.call('/api/runs', { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(403);
      expect((await call({ authorization: `Bearer ${await secured.tokenOf('alice')}` })).status).toBe(200);
      // Probes need no token.
      expect((await fetch(`${secured.base}/v2/health/ready`)).status).toBe(200);
    });
  });
});
