import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/client.ts';
import { datasets, modelVersions, stageAttempts } from '../src/db/schema.ts';
import { silentLogger } from '../src/log.ts';
import { unpackJson, unpackTable } from '../src/stages/data/serialize.ts';
import { backends, seedDataDir, type TestDatabase, testDatabase } from './helpers/database.ts';
import { asUser, cli } from './helpers/processes.ts';

const PIPELINES = fileURLToPath(new URL('../pipelines', import.meta.url));

/** The shipped example pipelines, end to end through the CLI on a fresh database. */
describe.each(backends())('steward run churn on a fresh %s database', (backend) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-churn-'));
  const env = {
    STEWARD_DATA_DIR: dir,
    STEWARD_PIPELINES_DIR: PIPELINES,
    DATABASE_URL: '',
    STEWARD_ADMINS: 'bob,local',
  };
  let postgres: TestDatabase | undefined;
  /** On PostgreSQL `run --wait` only follows its run: a worker here runs the stages, as `steward worker` would. */
  let worker: App | undefined;
  beforeAll(async () => {
    if (backend === 'postgres') {
      postgres = await testDatabase('postgres');
      env.DATABASE_URL = postgres.url ?? '';
      worker = await openApp({ config: loadConfig(env), log: silentLogger, command: 'worker' });
      worker.worker.start();
    }
  });
  afterAll(async () => {
    await worker?.close(0);
    await postgres?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const showJson = async (n: number) => JSON.parse((await cli(['show', String(n), '--json'], env, true)).out);

  it('reaches the approval gate with the dataset hash, every check, the metrics and no champion yet', async () => {
    const run = await cli(['run', 'churn', '--wait'], env, true);
    expect(run).toMatchObject({ code: 0, out: '#1 churn awaiting approval\n' });
    const { run: detail } = await showJson(1);
    const { ingest, checks, evaluate, features } = detail.summaries;
    expect(ingest.dataset).toMatch(/^[0-9a-f]{64}$/);
    expect(ingest).toMatchObject({ rows: 5000, piiRemoved: 2 });
    expect(checks.failed).toBe(0);
    expect(checks.results.map((r: { check: string }) => r.check)).toEqual(
      expect.arrayContaining(['target', 'target_classes', 'min_rows', 'max_missing', 'ranges', 'allowed']),
    );
    expect(features.features).toBeGreaterThan(6);
    expect(evaluate.metrics.roc_auc).toBeGreaterThan(0.75);
    expect(evaluate).toMatchObject({ version: 1, champion: null, holdoutRows: 1000 });
    expect(evaluate.thresholds).toEqual([
      expect.objectContaining({ metric: 'roc_auc', threshold: 0.75, passed: true }),
    ]);
  });

  /** What `steward start` would do on the embedded database: run the jobs that wait there (run #1's deploy). */
  async function serveBriefly(until: (app: App) => Promise<boolean>) {
    const app = await openApp({ config: loadConfig(env), log: silentLogger, command: 'worker' });
    try {
      for (let i = 0; i < 100 && !(await until(app)); i++) await app.worker.tick();
    } finally {
      await app.close(0);
    }
  }

  it('compares the next run with the production model on the same holdout', async () => {
    expect((await cli(['approve', '1'], await asUser('bob', env), true)).out).toBe('#1 deploying\n');
    if (backend === 'pglite') {
      // `run --wait` runs only its own run's stages, so nothing else deploys run #1 here.
      await serveBriefly(async (app) => (await app.service.show({ number: 1 })).run.state === 'deployed');
    }
    const second = await cli(['run', 'churn', '--wait', 'max_iter=60'], env, true);
    expect(second.code).toBe(0);
    expect((await showJson(1)).run.state).toBe('deployed');
    const { evaluate } = (await showJson(2)).run.summaries;
    expect(evaluate.champion).toMatchObject({ version: 1, metrics: { roc_auc: expect.any(Number) } });
    expect(evaluate.comparison).toMatchObject({
      metric: 'roc_auc',
      champion: evaluate.champion.metrics.roc_auc,
    });
    const models = JSON.parse((await cli(['models', 'churn', '--json'], env, true)).out);
    expect(models.map((m: { version: number; production: boolean }) => [m.version, m.production])).toEqual([
      [2, false],
      [1, true],
    ]);
  });

  it('keeps PII out of the dataset statistics, the stored transform and the metrics report', async () => {
    const { run } = await showJson(2);
    const database = await openDatabase({
      databaseUrl: env.DATABASE_URL || undefined,
      dataDir: dir,
      command: 'test',
      log: silentLogger,
    });
    try {
      const stored = [
        await database.db.select().from(datasets),
        (await database.db.select().from(modelVersions)).map((m) => ({
          ...m,
          artifact: unpackJson(m.artifact),
        })),
        await database.db.select().from(stageAttempts),
      ];
      const everything = JSON.stringify([run, stored]);
      expect(everything).toContain('monthly_charges'); // the check below looks at the right data
      for (const pii of ['email', 'customer_id', '@example.com', 'C000001'])
        expect(everything).not.toContain(pii);
      const content = (await database.db.select().from(datasets)).map((d) => unpackTable(d.content));
      expect(content[0]?.columns.map((c) => c.name)).not.toContain('email');
    } finally {
      await database.close();
    }
  });
});

/** Bad input ends the run `failed` with a readable report, on the first attempt (no retries). */
describe('bad input', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bad-'));
  const specs = path.join(dir, 'pipelines');
  fs.mkdirSync(specs);
  const env = { STEWARD_DATA_DIR: path.join(dir, 'data'), STEWARD_PIPELINES_DIR: specs, DATABASE_URL: '' };
  beforeAll(() => seedDataDir(env.STEWARD_DATA_DIR));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function runOn(name: string, csv: string, extra = ''): Promise<{ error: string; attempts: number }> {
    fs.writeFileSync(path.join(dir, `${name}.csv`), csv);
    fs.writeFileSync(
      path.join(specs, `${name}.yaml`),
      `name: ${name}\ntask: classification\nsource: { type: csv, path: ../${name}.csv }\ntarget: churned\nmodel: { type: logistic }\n${extra}`,
    );
    const result = await cli(['run', name, '--wait'], env, true);
    expect(result.out).toBe(`#${result.out.match(/#(\d+)/)?.[1]} ${name} failed\n`);
    const number = Number(result.out.match(/#(\d+)/)?.[1]);
    const detail = JSON.parse((await cli(['show', String(number), '--json'], env, true)).out);
    return { error: detail.run.error.message, attempts: detail.attempts.length };
  }

  const rows = (n: number, label: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => `${i % 50},${20 + (i % 7)},${label(i)}`).join('\n');

  it('a missing target column', async () => {
    const { error } = await runOn('notarget', `tenure,charges,outcome\n${rows(40, (i) => String(i % 2))}\n`);
    expect(error).toMatch(/✗ target: column "churned" not found \(columns: tenure, charges, outcome\)/);
  });

  it('text in a numeric column', async () => {
    const csv = `tenure,charges,churned\n${rows(40, (i) => String(i % 2))}\nabc,22,1\n`;
    const { error, attempts } = await runOn('textnum', csv, 'features: { numeric: [tenure, charges] }\n');
    expect(error).toMatch(/column "tenure" is numeric but row 41 has "abc"/);
    expect(attempts).toBe(1);
  });

  it('an empty file', async () => {
    const { error } = await runOn('empty', '');
    expect(error).toMatch(/empty/i);
  });

  it('a single-class target', async () => {
    const { error, attempts } = await runOn('oneclass', `tenure,charges,churned\n${rows(40, () => '0')}\n`);
    expect(error).toMatch(/data checks failed/);
    expect(error).toMatch(/churned/);
    expect(error).toMatch(/1 class/);
    expect(attempts).toBe(2); // ingest + checks, each once
  });

  it('a missed quality threshold names the metric, the threshold and the gap', async () => {
    const noise = Array.from(
      { length: 200 },
      (_, i) => `${(i * 7919) % 97},${(i * 104729) % 89},${(i * 31) % 2}`,
    ).join('\n');
    const { error } = await runOn(
      'weak',
      `tenure,charges,churned\n${noise}\n`,
      'validation: { thresholds: { roc_auc: 0.95 } }\n',
    );
    expect(error).toMatch(
      /validation failed:\n {2}✗ roc_auc 0\.\d{3} is below the threshold 0\.950 \(gap 0\.\d{3}\)/,
    );
  });
});
