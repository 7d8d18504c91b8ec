import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, ne } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.ts';
import { waitMode } from '../src/cli.ts';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/client.ts';
import { runs, stageAttempts } from '../src/db/schema.ts';
import { silentLogger } from '../src/log.ts';
import { seedDataDir } from './helpers/database.ts';
import { type EngineHarness, engineHarness } from './helpers/engine.ts';
import { cli, eventually, PIPELINES } from './helpers/processes.ts';

/** The CLI on the embedded database, with no server running: it opens the data dir itself. */
describe('steward CLI without a server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-'));
  const env = {
    STEWARD_DATA_DIR: dir,
    STEWARD_PIPELINES_DIR: PIPELINES,
    DATABASE_URL: '',
    STEWARD_ADMINS: 'bob',
  };
  beforeAll(() => seedDataDir(dir));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs a pipeline with --wait up to the approval gate and shows its timeline with actors', async () => {
    const run = await cli(['run', 'demo', 'max_iter=30', '--wait'], env);
    expect(run.code).toBe(0);
    expect(run.out).toBe('#1 demo awaiting approval\n');
    expect(run.err).toContain('#1 training');

    const shown = await cli(['show', '1'], env);
    expect(shown.out).toMatch(
      /^#1 demo \(train\): awaiting approval\nrequested by local at .*, params \{"max_iter":"30"\}/,
    );
    expect(shown.out).toMatch(/\n1 +\S+ \S+ +local +run\.submitted +queued +params \{"max_iter":"30"\}\n/);
    expect(shown.out).toMatch(/steward +stage\.done evaluate#1 +evaluating → awaitingApproval/);
    expect(shown.out).toMatch(/Stage attempts:\nSTAGE +ATTEMPT +STATUS/);

    const listed = await cli(['runs', '--json'], env);
    expect(JSON.parse(listed.out)).toEqual([
      expect.objectContaining({ number: 1, state: 'awaitingApproval' }),
    ]);
  });

  it("decides with another person's own token, never by claiming their name, and explains refusals", async () => {
    const own = await cli(['approve', '#1'], env);
    expect(own).toMatchObject({ code: 1, err: expect.stringContaining('four eyes') });
    // local is an admin and may act as bob, but it is still local's credential: four eyes hold.
    const claimed = await cli(['reject', '1', '--as', 'bob'], env);
    expect(claimed).toMatchObject({ code: 1, err: expect.stringContaining("someone else's credential") });
    const token = await cli(['token', 'create', 'bob', '--name', 'test'], env);
    expect(token).toMatchObject({ code: 0, out: expect.stringMatching(/^stw_\S+\n$/) });
    const reject = await cli(['reject', '1', '--reason', 'not today'], {
      ...env,
      STEWARD_TOKEN: token.out.trim(),
    });
    expect(reject).toMatchObject({ code: 0, out: '#1 rejected\n' });
    expect((await cli(['show', '1'], env)).out).toContain('rejected by bob: not today');
  });

  it('with --key, finds the run that key started instead of starting another, and refuses it for another request', async () => {
    const first = await cli(['run', 'demo', '--key', 'ci:demo:abc'], env);
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/^#(\d+) demo queued\n$/) });
    expect(await cli(['run', 'demo', '--key', 'ci:demo:abc'], env)).toMatchObject({
      code: 0,
      out: first.out,
    });
    const number = first.out.match(/#(\d+)/)?.[1];
    expect(await cli(['run', 'demo', 'max_iter=5', '--key', 'ci:demo:abc'], env)).toMatchObject({
      code: 1,
      err: expect.stringContaining(
        `the idempotency key "ci:demo:abc" was already used for run #${number} (params {}); send this request with a new key`,
      ),
    });
    expect(await cli(['run', 'demo', '--key', ' '], env)).toMatchObject({
      code: 2,
      err: expect.stringContaining('--key takes a non-empty key'),
    });
    expect((await cli(['cancel', String(number)], env)).code).toBe(0);
  });

  it('says what is wrong with a command', async () => {
    expect(await cli(['show', 'x'], env)).toMatchObject({
      code: 2,
      err: expect.stringContaining('show needs a run number'),
    });
    expect(await cli(['run', 'demo', 'epochs'], env)).toMatchObject({
      code: 1,
      err: 'error: `epochs` is not a parameter; write key=value, e.g. epochs=30\n',
    });
    expect(await cli(['frobnicate'], env)).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown command'),
    });
    expect(await cli(['show', '99'], env)).toMatchObject({ code: 1, err: 'error: there is no run #99\n' });
    for (const command of ['show', 'approve', 'cancel']) {
      expect(await cli([command, '2147483648'], env)).toEqual({
        code: 1,
        out: '',
        err: 'error: there is no run #2147483648\n',
      });
    }
    const queued = await cli(['run', 'demo'], env);
    expect(queued.err).toContain('the run starts with `steward start`');
  });
});

describe('steward pipeline', () => {
  it('validates a spec, listing every problem with its path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-spec-'));
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      bad,
      [
        'name: churn',
        'task: classification',
        'source: { type: csv, path: churn.csv }',
        'target: churned',
        'model: { type: mlp }',
        'features: { pii: [email], numeric: [email] }',
        'checks: { max_missing: 5 }',
        'approval: { min_approvals: 0 }',
      ].join('\n'),
    );
    const result = await cli(['pipeline', 'validate', bad], {});
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/has 3 problem\(s\)/);
    expect(result.err).toContain('  features.numeric.0:');
    expect(result.err).toContain('  checks.max_missing');
    expect(result.err).toContain('  approval.min_approvals:');

    const good = await cli(['pipeline', 'validate', path.join(PIPELINES, 'demo.yaml')], {});
    expect(good).toMatchObject({
      code: 0,
      out: expect.stringContaining('ok (demo: classification, logistic model'),
    });
    expect(await cli(['pipeline', 'validate', path.join(dir, 'none.yaml')], {})).toMatchObject({
      code: 1,
      err: expect.stringContaining('no such file'),
    });
  });

  it('prints a JSON Schema for editors', async () => {
    const result = await cli(['pipeline', 'schema'], {});
    const schema = JSON.parse(result.out) as { required: string[]; properties: Record<string, unknown> };
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'task', 'source', 'target', 'model']));
    expect(Object.keys(schema.properties)).toContain('approval');
  });
});

/** Runs queued stage jobs in this process until the run rests (waits for people or finished). */
async function settle(app: App, number: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const { run } = await app.service.show({ number });
    if (['awaitingApproval', 'deployed', 'failed'].includes(run.state)) return;
    await app.worker.tick();
  }
  throw new Error(`run #${number} did not settle`);
}

/** `steward show` on a churn run that went through Steward's real stages and has a model in production to beat. */
describe('steward show with the evidence for a decision', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-show-'));
  const env = {
    STEWARD_DATA_DIR: dir,
    STEWARD_PIPELINES_DIR: fileURLToPath(new URL('../pipelines', import.meta.url)),
    DATABASE_URL: '',
    STEWARD_ADMINS: 'bob',
    STEWARD_LOG_LEVEL: 'silent',
  };
  beforeAll(async () => {
    await seedDataDir(dir);
    const app = await openApp({ config: loadConfig(env), log: silentLogger, command: 'test' });
    try {
      for (const number of [1, 2]) {
        await app.service.start({ pipeline: 'churn', params: { max_iter: '30' }, requestedBy: 'local' });
        await settle(app, number);
        if (number === 1) {
          await app.service.act({ run: { number }, action: 'approve', as: 'bob' });
          await settle(app, number);
        }
      }
    } finally {
      await app.close(0);
    }
  }, 120_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the dataset, every data check, the metrics against thresholds and the comparison with production', async () => {
    const { run } = JSON.parse((await cli(['show', '2', '--json'], env, true)).out);
    expect(run.state).toBe('awaitingApproval');
    const { ingest, evaluate } = run.summaries;
    const shown = await cli(['show', '2'], env, true);
    expect(shown.code).toBe(0);
    const out = shown.out;
    expect(out).toContain(
      `Dataset: 5,000 rows × ${ingest.columns} columns, 2 PII columns removed\n  hash ${ingest.dataset}\n`,
    );
    expect(out).toMatch(/\nData checks: \d+ passed, 0 failed\n {2}CHECK +COLUMN +RESULT +OBSERVED\n/);
    expect(out).toMatch(/\n {2}min_rows +pass +5000 rows\n/);
    expect(out).toMatch(/\n {2}ranges +tenure +pass +from \d+ to \d+\n/);
    for (const check of ['target', 'target_classes', 'max_missing', 'allowed'])
      expect(out).toContain(`  ${check} `);
    expect(out).toMatch(/\nMetrics \(holdout of 1,000 rows\); 1 of 1 thresholds met, registered as v2\n/);
    const auc = evaluate.metrics.roc_auc.toFixed(3);
    expect(out).toMatch(
      new RegExp(`\\n {2}METRIC +VALUE +THRESHOLD +RESULT\\n {2}roc_auc +${auc} +≥ 0\\.750 +pass\\n`),
    );
    expect(out).toMatch(/\n {2}accuracy +0\.\d{3}\n/);
    const prod = evaluate.champion.metrics.roc_auc.toFixed(3);
    expect(out).toMatch(/\nProduction: v1 on the same holdout\n {2}METRIC +THIS RUN +PRODUCTION +DELTA\n/);
    expect(out).toMatch(new RegExp(`\\n {2}roc_auc +${auc} +${prod} +[+−±]\\d\\.\\d{3}`));
    expect(out).toMatch(new RegExp(`\\n {2}gate: roc_auc ${auc} vs ${prod} \\(`));
    expect(out.indexOf('Production: v1')).toBeLessThan(out.indexOf('Timeline:'));

    const first = (await cli(['show', '1'], env, true)).out;
    expect(first).toContain('Production: no model in production yet; this would be the first.');
  });
});

describe('steward run --wait', () => {
  const on = (exclusive: boolean) => ({ database: { exclusive } as Database });

  it('runs stages itself only on the embedded database, where nothing else would', () => {
    expect(waitMode(on(true))).toBe('work');
    expect(waitMode(on(false))).toBe('follow'); // PostgreSQL: its workers run them
    expect(waitMode(undefined)).toBe('follow'); // over HTTP: the server runs them
  });

  /** The CLI's attempts would carry this process's worker id; the harness's are `test-worker`. */
  describe.skipIf(!process.env.DATABASE_URL)('on PostgreSQL', () => {
    let h: EngineHarness;
    beforeAll(async () => {
      h = await engineHarness('postgres');
    });
    afterAll(async () => h?.close());

    const attemptsOf = (runId: string) =>
      h.database.db.select().from(stageAttempts).where(eq(stageAttempts.runId, runId));

    it('follows its run and claims no stage job, its own or another run’s', async () => {
      const { run: other } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-wait-'));
      const env = {
        DATABASE_URL: h.url ?? '',
        STEWARD_DATA_DIR: dir,
        STEWARD_PIPELINES_DIR: PIPELINES,
        STEWARD_ADMINS: 'local',
      };
      const waiting = cli(['run', 'demo', '--wait'], env);
      try {
        const mine = await eventually(
          async () => (await h.database.db.select().from(runs).where(ne(runs.id, other.id)))[0]?.id,
          10_000,
          'the CLI to start its run',
        );
        await new Promise((resolve) => setTimeout(resolve, 1500)); // a worker polls every 250 ms
        for (const id of [other.id, mine]) {
          expect((await attemptsOf(id)).filter((a) => a.workerId !== null)).toEqual([]);
        }
        await h.drain(); // the "real" workers on this database
        expect(await waiting).toMatchObject({
          code: 0,
          out: expect.stringMatching(/^#2 demo awaiting approval\n$/),
        });
        for (const id of [other.id, mine]) {
          const workers = new Set((await attemptsOf(id)).map((a) => a.workerId));
          expect(workers).toEqual(new Set(['test-worker']));
        }
      } finally {
        await h.drain().catch(() => {});
        await waiting;
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
