import { execFile } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App, openApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createToken } from '../src/db/credentials-repo.ts';
import { grantRole } from '../src/db/runs-repo.ts';
import { silentLogger } from '../src/log.ts';
import { backends } from './helpers/database.ts';
import { processEnv } from './helpers/processes.ts';

const SCRIPT = fileURLToPath(new URL('../deploy/ci/run-and-wait.sh', import.meta.url));

/** A small real pipeline that reaches its approval gate in a few seconds. */
const GATE = `name: ci-gate
task: classification
source: { type: synthetic, rows: 300 }
target: churned
model: { type: logistic }
approval: { required: true, min_approvals: 1, expires_after: 1h }
`;
/** The same data with a check it cannot pass: the run fails at checks. */
const BROKEN = `name: ci-broken
task: classification
source: { type: synthetic, rows: 300 }
target: churned
checks: { min_rows: 5000 }
model: { type: logistic }
`;

type Result = { code: number; out: string; err: string };

/**
 * deploy/ci/run-and-wait.sh as a CI job runs it, against a real `steward start` in this
 * process (real stages in worker threads) with a real person's API token.
 */
describe.each(backends())('deploy/ci/run-and-wait.sh against Steward on %s', (backend) => {
  let app: App;
  let server: http.Server;
  let base: string;
  let token: string;
  let cleanup: () => Promise<void>;
  let dir: string;

  beforeAll(async () => {
    const proc = await processEnv(backend, { STEWARD_CONSOLE: 'off' });
    cleanup = proc.cleanup;
    dir = proc.dir;
    const pipelines = path.join(dir, 'pipelines');
    fs.mkdirSync(pipelines);
    fs.writeFileSync(path.join(pipelines, 'ci-gate.yaml'), GATE);
    fs.writeFileSync(path.join(pipelines, 'ci-broken.yaml'), BROKEN);
    const config = loadConfig({ ...proc.env, STEWARD_PIPELINES_DIR: pipelines });
    app = await openApp({ config, log: silentLogger, command: 'start' });
    app.worker.start();
    server = await app.listen();
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await grantRole(app.database.db, { userId: 'U_CI', role: 'operator', grantedBy: 'test' });
    await grantRole(app.database.db, { userId: 'U_LEAD', role: 'approver', grantedBy: 'test' });
    token = (await createToken(app.database.db, { userId: 'U_CI', name: 'ci', createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await app?.close(0);
    await cleanup?.();
  });

  /**
   * Runs the script with the environment a GitHub Actions job would give it; `onOut` sees
   * its standard output as it comes.
   */
  function script(
    args: string[],
    env: Record<string, string> = {},
    onOut?: (soFar: string) => void,
  ): Promise<Result> {
    return new Promise((resolve) => {
      let soFar = '';
      const child = execFile(
        'bash',
        [SCRIPT, '--interval', '0.2', ...args],
        {
          env: { PATH: process.env.PATH ?? '', STEWARD_URL: base, STEWARD_TOKEN: token, ...env },
          timeout: 50_000,
        },
        (error, out, err) => resolve({ code: error ? Number(error.code ?? 1) : 0, out, err }),
      );
      child.stdout?.on('data', (chunk: Buffer) => {
        soFar += chunk.toString();
        onOut?.(soFar);
      });
    });
  }
  const runsOf = (pipeline: string) => app.service.list({ pipeline });

  it('starts a run, waits for its approval gate, and prints its number and page', async () => {
    const outputs = path.join(dir, 'github-output');
    const result = await script(['ci-gate'], { GITHUB_SHA: 'c0ffee1', GITHUB_OUTPUT: outputs });
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const [run] = await runsOf('ci-gate');
    expect(run).toMatchObject({ state: 'awaitingApproval', requestedBy: 'U_CI' });
    const number = run?.number;
    expect(result.out).toContain(`started run #${number} of ci-gate: ${base}/runs/${number}\n`);
    expect(result.out).toContain(`run #${number} of ci-gate awaits approval: ${base}/runs/${number}\n`);
    expect(fs.readFileSync(outputs, 'utf8')).toBe(
      `run=${number}\nurl=${base}/runs/${number}\nstate=awaitingApproval\n`,
    );
  });

  it('follows the same run, and starts none, when the job runs again for the same commit', async () => {
    const [first] = await runsOf('ci-gate');
    const again = await script(['ci-gate'], { GITHUB_SHA: 'c0ffee1' });
    expect(again.code).toBe(0);
    expect(again.out).toContain(
      `run #${first?.number} of ci-gate was already started with Idempotency-Key ci:ci-gate:c0ffee1`,
    );
    expect(again.out).toContain(`run #${first?.number} of ci-gate awaits approval`);
    expect(await runsOf('ci-gate')).toHaveLength(1);
  });

  it('fails with the run’s reason when the run fails', async () => {
    const result = await script(['ci-broken'], { GITHUB_SHA: 'c0ffee1' });
    expect(result.code).toBe(1);
    const [run] = await runsOf('ci-broken');
    expect(run?.state).toBe('failed');
    expect(result.out).toContain(`started run #${run?.number} of ci-broken`);
    expect(result.err).toContain(`error: run #${run?.number} of ci-broken failed: checks: `);
    expect(result.err).toContain('min_rows');
  });

  it('keeps waiting through the approval until the run is deployed with --until-deployed', async () => {
    const [run] = await runsOf('ci-gate');
    const number = run?.number as number;
    let approved: Promise<unknown> | undefined;
    // The same commit again: the script follows run #1, which waits at its gate, and is
    // approved only once the script has said it saw the gate.
    const result = await script(['--until-deployed', 'ci-gate'], { GITHUB_SHA: 'c0ffee1' }, (soFar) => {
      if (!approved && soFar.includes(`#${number} awaitingApproval\n`)) {
        approved = app.service.act({ run: { number }, action: 'approve', as: 'U_LEAD' });
      }
    });
    await approved;
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('awaits approval');
    expect(result.out).toContain(`run #${number} of ci-gate is deployed: ${base}/runs/${number}\n`);
    expect((await app.service.show({ number })).run.state).toBe('deployed');
  });

  it('refuses a wrong token, naming it, and starts nothing', async () => {
    const before = (await runsOf('ci-gate')).length;
    const result = await script(['ci-gate'], { STEWARD_TOKEN: 'stk_not-a-real-token', GITHUB_SHA: 'other' });
    expect(result.code).toBe(2);
    expect(result.err).toMatch(
      /^error: STEWARD_TOKEN was refused by http:\/\/127\.0\.0\.1:\d+: wrong or revoked token/,
    );
    expect(result.out).toBe('');
    expect(await runsOf('ci-gate')).toHaveLength(before);
  });

  it('says so for an unknown pipeline and for a server it cannot reach', async () => {
    const unknown = await script(['no-such-pipeline']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('error: starting a run of no-such-pipeline failed: ');
    expect(unknown.err).toContain('no-such-pipeline');

    const unreachable = await script(['ci-gate'], { STEWARD_URL: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(2);
    expect(unreachable.err).toContain('error: cannot reach Steward at http://127.0.0.1:9: ');
  });

  it('gives up at its timeout, naming the state the run is in', async () => {
    const result = await script(['--timeout', '0', 'ci-gate'], { GITHUB_SHA: 'slow' });
    expect(result.code).toBe(3);
    expect(result.err).toMatch(/error: gave up after 0s: run #\d+ of ci-gate is still queued; http:/);
  });
});
