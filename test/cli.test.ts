import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, PIPELINES } from './helpers/processes.ts';

/** The CLI on the embedded database, with no server running: it opens the data dir itself. */
describe('steward CLI without a server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-'));
  const env = {
    STEWARD_DATA_DIR: dir,
    STEWARD_PIPELINES_DIR: PIPELINES,
    DATABASE_URL: '',
    STEWARD_ADMINS: 'bob',
  };
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs a pipeline with --wait up to the approval gate and shows its timeline with actors', async () => {
    const run = await cli(['run', 'demo', 'epochs=3', '--wait'], env);
    expect(run.code).toBe(0);
    expect(run.out).toBe('#1 demo awaiting approval\n');
    expect(run.err).toContain('#1 training');

    const shown = await cli(['show', '1'], env);
    expect(shown.out).toMatch(
      /^#1 demo \(train\): awaiting approval\nrequested by local at .*, params \{"epochs":"3"\}/,
    );
    expect(shown.out).toMatch(/\n1 +\S+ \S+ +local +run\.submitted +queued +params \{"epochs":"3"\}\n/);
    expect(shown.out).toMatch(/steward +stage\.done evaluate#1 +evaluating → awaitingApproval/);
    expect(shown.out).toMatch(/Stage attempts:\nSTAGE +ATTEMPT +STATUS/);

    const listed = await cli(['runs', '--json'], env);
    expect(JSON.parse(listed.out)).toEqual([
      expect.objectContaining({ number: 1, state: 'awaitingApproval' }),
    ]);
  });

  it('acts as --as and explains refusals', async () => {
    const own = await cli(['approve', '#1'], env);
    expect(own).toMatchObject({ code: 1, err: expect.stringContaining('four eyes') });
    const reject = await cli(['reject', '1', '--as', 'bob', '--reason', 'not today'], env);
    expect(reject).toMatchObject({ code: 0, out: '#1 rejected\n' });
    expect((await cli(['show', '1'], env)).out).toContain('rejected by bob: not today');
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
