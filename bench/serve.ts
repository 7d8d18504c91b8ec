/**
 * Model serving benchmark: Steward's prediction endpoint (`POST /v1/models/:name:predict` on
 * the real app of `openApp`, embedded PGlite in a temp dir, prediction log on at sample rate
 * 1.0) for the churn gradient-boosting model and a churn-sized MLP, over HTTP on loopback.
 * Beside it, in the same run and with the same client: a bare `node:http` handler that reads
 * the body and answers a constant JSON (a real answer to that request, captured once, so the
 * same bytes cross the wire both ways), the serving service called in-process (no HTTP), and
 * the model's own predict in-process (transform + predict on the same rows).
 *
 *   npx tsx bench/serve.ts [--requests N] [--batches N] [--rounds N] [--models churn_gbm,churn_mlp]
 *     [--backend pglite|postgres] [--sample-rate 1]
 *
 * PGlite (in a temp data dir, as `steward start` runs it) by default: its queries, the
 * prediction log's writes among them, run in the serving thread. `--backend postgres` uses
 * DATABASE_URL, in a throwaway database `steward_bench_<random>` dropped at the end.
 *
 * The client runs in a worker thread (keep-alive agent, closed loop, N clients in flight),
 * so the server's event loop has the main thread to itself. Progress goes to stderr,
 * results to stdout.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { openApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { silentLogger } from '../src/log.ts';
import { applyTransform } from '../src/stages/features/transform.ts';
import { loadTf } from '../src/stages/ml/tf.ts';
import type { LoadedModel } from '../src/stages/serve/loaded-model.ts';
import { fitModel } from '../src/stages/train/fit-model.ts';
import { churnRows, churnTrainingData, registerVersions, setAlias } from '../test/helpers/models.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '4000' },
    batches: { type: 'string', default: '150' },
    rounds: { type: 'string', default: '1' },
    /** Only these models (comma-separated: churn_gbm, churn_mlp), e.g. to profile one. */
    models: { type: 'string', default: 'churn_gbm,churn_mlp' },
    backend: { type: 'string', default: 'pglite' },
    /** The pipelines' `monitoring.sample_rate`: 1 logs every row (the default), 0 none. */
    'sample-rate': { type: 'string', default: '1' },
  },
});
const REQUESTS = Number(values.requests);
const BATCHES = Number(values.batches);
const ROUNDS = Number(values.rounds);
const BATCH_ROWS = 1000;
const SAMPLE_RATE = Number(values['sample-rate']);
const CONCURRENCY = [1, 10] as const;

const progress = (message: string) => process.stderr.write(`bench/serve: ${message}\n`);

// ---------------------------------------------------------------------------------------
// The client: a worker thread with a keep-alive agent, closed loop.

type Job = {
  port: number;
  path: string;
  bodies: string[];
  concurrency: number;
  warmup: number;
  count: number;
};
type JobResult = { latencies: Float64Array; seconds: number; errors: number; firstBody: string };

const CLIENT = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
parentPort.on('message', async (job) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.concurrency });
  const bodies = job.bodies.map((b) => Buffer.from(b));
  let errors = 0;
  let firstBody = '';
  const send = (body) => new Promise((resolve) => {
    const t0 = performance.now();
    const req = http.request({
      host: '127.0.0.1', port: job.port, path: job.path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - t0;
        if (res.statusCode !== 200) errors += 1;
        if (!firstBody) firstBody = Buffer.concat(chunks).toString('utf8');
        resolve(ms);
      });
    });
    req.on('error', () => { errors += 1; resolve(performance.now() - t0); });
    req.end(body);
  });
  const loop = async (n, latencies) => {
    let next = 0;
    const client = async () => {
      while (next < n) {
        const i = next++;
        const ms = await send(bodies[i % bodies.length]);
        if (latencies) latencies[i] = ms;
      }
    };
    await Promise.all(Array.from({ length: job.concurrency }, client));
  };
  // Every connection open and answered once, then the warm-up, then the clock.
  await Promise.all(bodies.slice(0, job.concurrency).map(send));
  await loop(job.warmup);
  errors = 0;
  const latencies = new Float64Array(job.count);
  const t0 = performance.now();
  await loop(job.count, latencies);
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  parentPort.postMessage({ latencies, seconds, errors, firstBody }, [latencies.buffer]);
});
`;

const client = new Worker(CLIENT, { eval: true });
client.unref();

function run(job: Job): Promise<JobResult> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    client.once('error', failed);
    client.once('message', (result: JobResult) => {
      client.off('error', failed);
      resolve(result);
    });
    client.postMessage(job);
  });
}

// ---------------------------------------------------------------------------------------
// Figures.

type Cell = { p50: number; p99: number; perSecond: number; rowsPerSecond: number; errors: number };

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

function cellOf(latencies: Float64Array, seconds: number, rows: number, errors = 0): Cell {
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    perSecond: latencies.length / seconds,
    rowsPerSecond: (latencies.length * rows) / seconds,
    errors,
  };
}

/** Times `fn` `count` times in a row (after `warmup` calls), one latency per call. */
async function timed(count: number, warmup: number, fn: (i: number) => unknown): Promise<Float64Array> {
  for (let i = 0; i < warmup; i++) await fn(i);
  const latencies = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await fn(i);
    latencies[i] = performance.now() - t0;
  }
  return latencies;
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const int = (v: number) => Math.round(v).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------
// Setup: the app, two trained models, registered as the deploy side does.

const BACKEND = values.backend;
if (BACKEND !== 'pglite' && BACKEND !== 'postgres') throw new Error('--backend is pglite or postgres');
if (BACKEND === 'postgres' && !process.env.DATABASE_URL) {
  throw new Error('--backend postgres needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
}
/** On PostgreSQL, a throwaway database and how to drop it. */
async function throwawayDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = process.env.DATABASE_URL as string;
  const name = `steward_bench_${randomBytes(5).toString('hex')}`;
  const control = new pg.Client({ connectionString: admin });
  await control.connect();
  await control.query(`create database ${name}`);
  await control.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
const postgres = BACKEND === 'postgres' ? await throwawayDatabase() : undefined;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-serve-'));
const config = loadConfig({
  ...(postgres ? { DATABASE_URL: postgres.url } : {}),
  STEWARD_DATA_DIR: dir,
  STEWARD_PIPELINES_DIR: path.join(REPO, 'pipelines'),
  PORT: '0',
  HOST: '127.0.0.1',
  STEWARD_CONSOLE: 'off',
});
progress(`opening the app (${postgres ? 'PostgreSQL, throwaway database' : 'fresh PGlite data dir'})`);
const app = await openApp({ config, log: silentLogger, command: 'start' });

progress('training the models');
const { table, transform, X, y } = churnTrainingData(5000);
// As pipelines/churn.yaml trains it.
const gbmFit = await fitModel({
  type: 'gradient_boosting',
  task: 'classification',
  X,
  y,
  params: { max_iter: 150, learning_rate: 0.1 },
});
const mlpFit = await fitModel({
  type: 'mlp',
  task: 'classification',
  X,
  y,
  params: { hidden: [32, 16], epochs: 3, batch_size: 64 },
});
const { backend } = await loadTf();

const MODELS = [
  { name: 'churn_gbm', label: 'gradient boosting (150 iterations)', type: 'gradient_boosting', fit: gbmFit },
  { name: 'churn_mlp', label: `MLP (32, 16) on TensorFlow.js ${backend}`, type: 'mlp', fit: mlpFit },
] as const;
for (const m of MODELS) {
  const runs = await registerVersions(
    app.database,
    m.name,
    [{ version: 1, model: m.fit.model.toJSON(), modelType: m.type }],
    { transform, monitoring: { sample_rate: SAMPLE_RATE } },
  );
  await setAlias(app.database, m.name, { version: 1, runId: runs.get(1) as string });
}
const server = await app.listen();
const port = (server.address() as { port: number }).port;

// Request bodies: single rows and batches of 1,000, as a client sends them (PII included).
const singleRows = churnRows(table, REQUESTS);
const singleBodies = singleRows.map((row) => JSON.stringify({ instances: [row] }));
const batchRows = Array.from({ length: 8 }, (_, k) => churnRows(table, BATCH_ROWS, k * BATCH_ROWS));
const batchBodies = batchRows.map((rows) => JSON.stringify({ instances: rows }));

// The bare handler: reads the body, answers the constant it is given for the path.
const constants = new Map<string, Buffer>();
const bare = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    const body = constants.get(req.url ?? '') ?? Buffer.from('{}');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const barePort = (bare.address() as { port: number }).port;

/** Rows predicted (warm-up included), written to the prediction log and dropped from it so far. */
async function logCounts(): Promise<{ served: number; written: number; dropped: number }> {
  const total = async (c: { get(): Promise<{ values: { value: number }[] }> }) =>
    (await c.get()).values.reduce((s, v) => s + v.value, 0);
  return {
    served: await total(app.metrics.predictions),
    written: await total(app.metrics.predictionLogWritten),
    dropped: await total(app.metrics.predictionLogDropped),
  };
}

// ---------------------------------------------------------------------------------------
// Measure.

type Row = { model: string; what: string; clients: number | '-'; rows: number; cell: Cell; log?: string };
const table1: Row[] = [];
const table2: Row[] = [];

async function http1(
  target: 'steward' | 'bare',
  model: string,
  bodies: string[],
  rows: number,
  clients: number,
  count: number,
): Promise<Cell> {
  const pathOf = `/v1/models/${model}:predict`;
  const result = await run({
    port: target === 'steward' ? port : barePort,
    path: target === 'steward' ? pathOf : `/${rows}`,
    bodies,
    concurrency: clients,
    warmup: Math.min(count, rows === 1 ? 1000 : 20),
    count,
  });
  if (target === 'steward') {
    const answer = JSON.parse(result.firstBody) as { predictions?: unknown[] };
    if (answer.predictions?.length !== rows)
      throw new Error(`unexpected answer: ${result.firstBody.slice(0, 200)}`);
    constants.set(`/${rows}`, Buffer.from(result.firstBody));
  }
  return cellOf(result.latencies, result.seconds, rows, result.errors);
}

const loadBefore = os.loadavg();
const t0 = performance.now();
for (let round = 1; round <= ROUNDS; round++) {
  for (const m of MODELS.filter((model) => values.models.split(',').includes(model.name))) {
    const serving = await app.serving.cache.get(m.name);
    const loaded: LoadedModel = serving.production;
    const inProcess = (rows: readonly Record<string, unknown>[]) => {
      const features = applyTransform(loaded.transform, rows);
      const { model } = loaded;
      if (model.task !== 'classification') throw new Error('a classifier was expected');
      return model.predictProba(features);
    };
    const service = (rows: readonly unknown[]) => app.serving.predict({ model: m.name, rows });

    for (const [shape, bodies, rows, count, out] of [
      ['single row', singleBodies, 1, REQUESTS, table1],
      [`batch of ${BATCH_ROWS}`, batchBodies, BATCH_ROWS, BATCHES, table2],
    ] as const) {
      progress(`round ${round}, ${m.name}, ${shape}`);
      const data = rows === 1 ? singleRows.map((r) => [r]) : batchRows;
      // A first Steward answer, so the bare handler answers the same bytes.
      await http1('steward', m.name, bodies, rows, 1, 10);
      for (const clients of CONCURRENCY) {
        await app.serving.predictionLog.flush();
        const before = await logCounts();
        const steward = await http1('steward', m.name, bodies, rows, clients, count);
        await app.serving.predictionLog.flush();
        const after = await logCounts();
        const served = after.served - before.served;
        const logged = after.written - before.written;
        const dropped = after.dropped - before.dropped;
        const log = `${int(served)} rows served: ${int(logged)} logged, ${int(dropped)} dropped`;
        out.push({ model: m.name, what: 'steward http', clients, rows, cell: steward, log });
        const floor = await http1('bare', m.name, bodies, rows, clients, count);
        out.push({ model: m.name, what: 'bare node:http', clients, rows, cell: floor });
      }
      const svc = await timed(count, rows === 1 ? 1000 : 20, (i) => service(data[i % data.length] ?? []));
      await app.serving.predictionLog.flush();
      out.push({
        model: m.name,
        what: 'service in-process',
        clients: 1,
        rows,
        cell: cellOf(svc, sum(svc), rows),
      });
      const own = await timed(count, rows === 1 ? 1000 : 20, (i) => inProcess(data[i % data.length] ?? []));
      out.push({
        model: m.name,
        what: 'model in-process',
        clients: 1,
        rows,
        cell: cellOf(own, sum(own), rows),
      });
    }
  }
}
const totalSeconds = (performance.now() - t0) / 1000;

function sum(latencies: Float64Array): number {
  let s = 0;
  for (const v of latencies) s += v;
  return s / 1000;
}

// ---------------------------------------------------------------------------------------
// Report.

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `Model serving: Node ${process.version}, ${os.cpus().length} cores (${cpu.trim()}), ${os.platform()}; ` +
    `Steward app (openApp) on ${postgres ? 'PostgreSQL (DATABASE_URL)' : 'PGlite (temp data dir)'}, serving auth none, prediction log sample rate ${SAMPLE_RATE}`,
);
console.log(
  `models: churn_gbm = ${MODELS[0].label}; churn_mlp = ${MODELS[1].label}, 3 epochs; ` +
    `trained on 5,000 synthetic churn rows, ${transform.inputs.length} inputs -> ${transform.features.length} features`,
);
console.log(
  `client: worker thread, keep-alive node:http agent, closed loop; ${int(REQUESTS)} single-row requests ` +
    `and ${BATCHES} batches of ${int(BATCH_ROWS)} rows per cell after a warm-up; ` +
    `bare = node:http reading the body and answering a captured Steward answer (same bytes); ${ROUNDS} round(s)`,
);
console.log(
  'prediction log column: rows predicted in the cell (warm-up included), rows the log wrote by the end of the cell and one flush after it, rows it dropped (buffer full)',
);
const loads = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
console.log(
  `load average (1, 5, 15 min): ${loads(loadBefore)} before measuring, ${loads(os.loadavg())} after`,
);

const pad = (s: string, n: number) => s.padEnd(n);
const lpad = (s: string, n: number) => s.padStart(n);

console.log('\nsingle-row latency (POST /v1/models/<name>:predict, one instance)');
console.log(
  `  ${pad('model', 10)} ${pad('what', 19)} ${lpad('clients', 7)} ${lpad('p50 ms', 8)} ${lpad('p99 ms', 8)} ${lpad('req/s', 8)} ${lpad('err', 4)}  prediction log`,
);
for (const r of table1) {
  console.log(
    `  ${pad(r.model, 10)} ${pad(r.what, 19)} ${lpad(String(r.clients), 7)} ${lpad(ms(r.cell.p50), 8)} ${lpad(ms(r.cell.p99), 8)} ${lpad(int(r.cell.perSecond), 8)} ${lpad(String(r.cell.errors), 4)}  ${r.log ?? ''}`,
  );
}

console.log(
  `\nbatches of ${int(BATCH_ROWS)} rows (end to end: HTTP + JSON + transform + predict + JSON answer)`,
);
console.log(
  `  ${pad('model', 10)} ${pad('what', 19)} ${lpad('clients', 7)} ${lpad('p50 ms', 8)} ${lpad('p99 ms', 8)} ${lpad('rows/s', 10)} ${lpad('err', 4)}  prediction log`,
);
for (const r of table2) {
  console.log(
    `  ${pad(r.model, 10)} ${pad(r.what, 19)} ${lpad(String(r.clients), 7)} ${lpad(ms(r.cell.p50), 8)} ${lpad(ms(r.cell.p99), 8)} ${lpad(int(r.cell.rowsPerSecond), 10)} ${lpad(String(r.cell.errors), 4)}  ${r.log ?? ''}`,
  );
}

console.log('\ntargets: single-row p99 < 5 ms and within 2 ms of bare node:http; batches > 100,000 rows/s');
for (const m of MODELS) {
  for (const clients of CONCURRENCY) {
    const of = (t: Row[], what: string) =>
      t.filter((r) => r.model === m.name && r.what === what && r.clients === clients);
    const s = of(table1, 'steward http');
    const b = of(table1, 'bare node:http');
    s.forEach((row, k) => {
      const base = b[k]?.cell.p99 ?? Number.NaN;
      const ok = row.cell.p99 < 5 && row.cell.p99 - base <= 2;
      console.log(
        `  ${pad(m.name, 10)} single row, ${lpad(String(clients), 2)} clients: p99 ${ms(row.cell.p99)} ms, bare ${ms(base)} ms, +${ms(row.cell.p99 - base)} ms  ${ok ? 'PASS' : 'MISS'}`,
      );
    });
    for (const row of of(table2, 'steward http')) {
      const ok = row.cell.rowsPerSecond > 100_000;
      console.log(
        `  ${pad(m.name, 10)} batches,    ${lpad(String(clients), 2)} clients: ${int(row.cell.rowsPerSecond)} rows/s  ${ok ? 'PASS' : 'MISS'}`,
      );
    }
  }
}
const totals = await logCounts();
console.log(
  `\nprediction log over the whole run: ${int(totals.written)} rows written, ${int(totals.dropped)} dropped (buffer full); total ${totalSeconds.toFixed(0)} s`,
);

bare.close();
await app.close(0);
await postgres?.drop();
fs.rmSync(dir, { recursive: true, force: true });
