/**
 * Run engine benchmark: how fast the durable run engine applies events, beside a raw floor
 * (the same kind of transaction written by hand through the raw driver) measured in the same
 * process, on the same database, with the same number of connections.
 *
 *   npx tsx bench/engine.ts [--runs N] [--events N] [--connections N] [--backend pglite|postgres|both]
 *
 * PGlite (in memory) always; PostgreSQL too when DATABASE_URL is set. On PostgreSQL a
 * throwaway database is created and dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type Database, migrateDatabase, openDatabase } from '../src/db/client.ts';
import { grantRole } from '../src/db/runs-repo.ts';
import { silentLogger } from '../src/log.ts';
import { createMemoryCatalog } from '../src/stages/catalog.ts';
import { PipelineSpec } from '../src/stages/spec.ts';
import { createJobQueue, type JobQueue } from '../src/workflows/jobs.ts';
import { createRunEngine, type RunEngine } from '../src/workflows/run-engine.ts';

type Backend = 'pglite' | 'postgres';

type Options = {
  runs: number;
  /** Undefined: the per-backend default (10,000 on PostgreSQL, 5,000 on PGlite). */
  events: number | undefined;
  connections: number;
  backends: Backend[];
};

type Measurement = {
  events: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU time of this Node process (user + system) per event, in µs. */
  cpuPerEvent: number;
};

type BackendResult = {
  backend: Backend;
  server: string;
  connections: number;
  runs: number;
  events: number;
  snapshotBytes: number;
  engine: Measurement;
  floor: Measurement;
};

const USER = 'bench-operator';
const PIPELINE = 'demo';

function fail(message: string): never {
  console.error(`bench/engine: ${message}`);
  process.exit(2);
}

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${value}`);
  return n;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      events: { type: 'string' },
      connections: { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: npx tsx bench/engine.ts [--runs N] [--events N] [--connections N] [--backend pglite|postgres|both]',
    );
    process.exit(0);
  }
  const hasUrl = Boolean(process.env.DATABASE_URL);
  const backend = values.backend ?? (hasUrl ? 'both' : 'pglite');
  let backends: Backend[];
  if (backend === 'pglite') backends = ['pglite'];
  else if (backend === 'postgres') backends = ['postgres'];
  else if (backend === 'both') backends = ['pglite', 'postgres'];
  else fail(`--backend must be pglite, postgres or both, got ${backend}`);
  if (backends.includes('postgres') && !hasUrl) {
    fail('--backend postgres/both needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)');
  }
  return {
    runs: positiveInt('runs', values.runs) ?? 1000,
    events: positiveInt('events', values.events),
    connections: positiveInt('connections', values.connections) ?? 8,
    backends,
  };
}

/** `total` tasks over `concurrency` async loops; returns wall seconds and each task's latency (ms). */
async function workerPool(
  total: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<{ seconds: number; cpuMicros: number; latencies: Float64Array }> {
  const latencies = new Float64Array(total);
  let next = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t0 = performance.now();
        await task(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMicros: used.user + used.system, latencies };
}

function summarize({
  seconds,
  cpuMicros,
  latencies,
}: {
  seconds: number;
  cpuMicros: number;
  latencies: Float64Array;
}): Measurement {
  const sorted = Float64Array.from(latencies).sort();
  const rank = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return {
    events: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: rank(0.5),
    p99: rank(0.99),
    cpuPerEvent: cpuMicros / latencies.length,
  };
}

/** The raw driver behind the floor: one transaction of raw SQL statements. */
type RawTransaction = <T>(
  fn: (query: (text: string, values?: unknown[]) => Promise<{ rows: unknown[] }>) => Promise<T>,
) => Promise<T>;

type Target = {
  backend: Backend;
  server: string;
  database: Database;
  jobs: JobQueue;
  connections: number;
  /** Runs multi-statement DDL/maintenance through the raw driver. */
  exec(sql: string): Promise<void>;
  rawTransaction: RawTransaction;
  close(): Promise<void>;
};

async function pgliteTarget(): Promise<Target> {
  const pglite = await PGlite.create();
  const database = await openDatabase({ dataDir: '', command: 'bench', log: silentLogger, pglite });
  await migrateDatabase(database);
  const jobs = await createJobQueue({ database, log: silentLogger, supervise: false });
  const version = await pglite.query<{ v: string }>("select current_setting('server_version') as v");
  return {
    backend: 'pglite',
    server: `PGlite (PostgreSQL ${version.rows[0]?.v}, in memory)`,
    database,
    jobs,
    connections: 1,
    async exec(sql) {
      await pglite.exec(sql);
    },
    rawTransaction: (fn) => pglite.transaction((tx) => fn((text, values) => tx.query(text, values))),
    async close() {
      await jobs.stop();
      await database.close();
      await pglite.close();
    },
  };
}

async function postgresTarget(connections: number): Promise<Target> {
  const admin = process.env.DATABASE_URL as string;
  const name = `steward_bench_${randomBytes(5).toString('hex')}`;
  const control = new pg.Client({ connectionString: admin });
  await control.connect();
  await control.query(`create database ${name}`);
  await control.end();
  const drop = async () => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  };
  try {
    const url = new URL(admin);
    url.pathname = `/${name}`;
    const database = await openDatabase({
      databaseUrl: url.toString(),
      dataDir: '',
      command: 'bench',
      log: silentLogger,
      poolSize: connections,
    });
    await migrateDatabase(database, url.toString());
    const jobs = await createJobQueue({ database, log: silentLogger, supervise: false });
    const raw = new pg.Pool({ connectionString: url.toString(), max: connections });
    raw.on('error', () => {});
    const version = await raw.query<{ v: string }>("select current_setting('server_version') as v");
    return {
      backend: 'postgres',
      server: `PostgreSQL ${version.rows[0]?.v} (${url.host}, database ${name})`,
      database,
      jobs,
      connections,
      async exec(sql) {
        await raw.query(sql);
      },
      async rawTransaction(fn) {
        const client = await raw.connect();
        try {
          await client.query('begin');
          const value = await fn((text, values) => client.query(text, values));
          await client.query('commit');
          return value;
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      },
      async close() {
        try {
          await jobs.stop();
          await database.close();
          await raw.end();
        } finally {
          await drop();
        }
      },
    };
  } catch (error) {
    await drop().catch(() => {});
    throw error;
  }
}

function progress(message: string) {
  console.error(`  … ${message}`);
}

async function benchBackend(target: Target, options: Options): Promise<BackendResult> {
  const { database, jobs, connections, backend } = target;
  const runs = options.runs;
  const events = options.events ?? (backend === 'postgres' ? 10_000 : 5_000);

  // --- setup: a user, an engine over one spec, `runs` runs each in `ingesting`
  await grantRole(database.db, { userId: USER, role: 'operator', grantedBy: 'bench' });
  const spec = PipelineSpec.parse({
    name: PIPELINE,
    task: 'classification',
    source: { type: 'synthetic' },
    target: 'churned',
    model: { type: 'logistic' },
  });
  const engine: RunEngine = createRunEngine({
    database,
    jobs,
    catalog: createMemoryCatalog([spec]),
    log: silentLogger,
  });

  let t0 = performance.now();
  const runIds: string[] = new Array(runs);
  await workerPool(runs, connections, async (i) => {
    const { run } = await engine.createRun({ pipeline: PIPELINE, requestedBy: USER });
    runIds[i] = run.id;
  });
  progress(`${backend}: created ${runs} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  t0 = performance.now();
  await workerPool(runs, connections, async (i) => {
    const result = await engine.apply({
      run: { id: runIds[i] as string },
      event: { type: 'stage.started', stage: 'ingest', attempt: 1, worker: 'bench' },
      actor: 'steward',
      idempotencyKey: 'started',
    });
    if (result.status !== 'applied' || result.run.state !== 'ingesting') {
      throw new Error(`stage.started on run ${i}: ${result.status} (${result.run.state})`);
    }
  });
  progress(`${backend}: started ${runs} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // --- floor tables, seeded with a real run snapshot so both write the same bytes
  const sample = await database.executor.executeSql(
    `select snapshot::text as json, octet_length(snapshot::text) as bytes from runs where state = 'ingesting' limit 1`,
  );
  const { json: snapshotJson, bytes: snapshotBytes } = sample.rows[0] as { json: string; bytes: number };
  await target.exec(`
    create table bench_floor_runs (id uuid primary key, version int not null, snapshot jsonb not null);
    create table bench_floor_events (id bigserial primary key, run_id uuid not null, seq int not null, payload jsonb not null);
  `);
  await target.rawTransaction((query) =>
    query(
      'insert into bench_floor_runs (id, version, snapshot) select gen_random_uuid(), 0, $1::jsonb from generate_series(1, $2)',
      [snapshotJson, runs],
    ),
  );
  const floorIds = (
    await target.rawTransaction((query) => query('select id from bench_floor_runs order by id'))
  ).rows.map((r) => (r as { id: string }).id);

  const floorWrite = (i: number, step: number) =>
    target.rawTransaction(async (query) => {
      const id = floorIds[i % runs] as string;
      const { rows } = await query(
        'select version, snapshot from bench_floor_runs where id = $1 for update',
        [id],
      );
      const row = rows[0] as { version: number; snapshot: { context: Record<string, unknown> } } | undefined;
      if (!row) throw new Error(`floor row ${id} is missing`);
      const at = new Date().toISOString();
      row.snapshot.context.progress = { stage: 'ingest', attempt: 1, message: `step ${step}`, at };
      await query('update bench_floor_runs set version = version + 1, snapshot = $2 where id = $1', [
        id,
        JSON.stringify(row.snapshot),
      ]);
      await query('insert into bench_floor_events (run_id, seq, payload) values ($1, $2, $3)', [
        id,
        row.version + 1,
        JSON.stringify({ type: 'stage.progress', stage: 'ingest', attempt: 1, message: `step ${step}` }),
      ]);
    });
  // Warm the floor as the stage.started pass warmed the engine: one write per row, unmeasured.
  await workerPool(runs, connections, (i) => floorWrite(i, 0));
  await target.exec('analyze');

  // --- measured: the engine
  progress(`${backend}: engine, ${events} stage.progress events over ${connections} connection(s)`);
  const engineRaw = await workerPool(events, connections, async (i) => {
    const step = Math.floor(i / runs) + 1;
    const result = await engine.apply({
      run: { id: runIds[i % runs] as string },
      event: { type: 'stage.progress', stage: 'ingest', attempt: 1, message: `step ${step}` },
      actor: 'steward',
      idempotencyKey: `progress-${i}`,
    });
    if (result.status !== 'applied') throw new Error(`stage.progress ${i}: ${result.status}`);
  });

  // --- measured: the raw floor
  progress(`${backend}: raw floor, ${events} transactions over ${connections} connection(s)`);
  const floorRaw = await workerPool(events, connections, (i) => floorWrite(i, Math.floor(i / runs) + 1));

  // --- sanity: every write landed
  const engineCount = await database.executor.executeSql(
    `select count(*)::int as n from run_events where type = 'stage.progress'`,
  );
  const floorCount = await target.rawTransaction((query) =>
    query('select count(*)::int as n from bench_floor_events'),
  );
  const n1 = (engineCount.rows[0] as { n: number }).n;
  const n2 = (floorCount.rows[0] as { n: number }).n;
  if (n1 !== events || n2 !== events + runs) {
    throw new Error(
      `expected ${events} engine events and ${events + runs} floor events, got ${n1} and ${n2}`,
    );
  }

  return {
    backend,
    server: target.server,
    connections,
    runs,
    events,
    snapshotBytes: Number(snapshotBytes),
    engine: summarize(engineRaw),
    floor: summarize(floorRaw),
  };
}

function report(result: BackendResult) {
  const columns = ['events/s', 'p50 ms', 'p99 ms', 'wall s', 'node CPU µs/ev'];
  const line = (label: string, cells: string[]) =>
    `  ${label.padEnd(16)}${cells.map((c, i) => c.padStart(i === 4 ? 16 : 10)).join('')}`;
  const row = (label: string, m: Measurement) =>
    line(label, [
      m.perSecond.toFixed(0),
      m.p50.toFixed(2),
      m.p99.toFixed(2),
      m.seconds.toFixed(1),
      m.cpuPerEvent.toFixed(0),
    ]);
  const ratio = (100 * result.engine.perSecond) / result.floor.perSecond;
  console.log('');
  console.log(`${result.backend}: ${result.server}`);
  console.log(
    `  connections ${result.connections}, runs ${result.runs}, events ${result.events}, ` +
      `run snapshot ${result.snapshotBytes} bytes`,
  );
  console.log(line('', columns));
  console.log(row('engine', result.engine));
  console.log(row('raw floor', result.floor));
  console.log(line('engine / floor', [`${ratio.toFixed(1)} %`]));
}

async function main() {
  const options = parseOptions();
  const cpus = os.cpus();
  console.log('Steward run engine benchmark (bench/engine.ts)');
  console.log(
    `  node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} CPU(s): ${cpus[0]?.model ?? '?'}`,
  );
  console.log(
    `  runs ${options.runs}, events ${options.events ?? 'default (postgres 10000, pglite 5000)'}, ` +
      `connections ${options.connections} (PGlite: 1), backends ${options.backends.join(', ')}`,
  );
  const started = performance.now();
  for (const backend of options.backends) {
    console.error(`\n${backend}: setting up`);
    const target = backend === 'postgres' ? await postgresTarget(options.connections) : await pgliteTarget();
    try {
      report(await benchBackend(target, options));
    } finally {
      await target.close();
    }
  }
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
