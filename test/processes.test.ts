import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { backends } from './helpers/database.ts';
import {
  asUser,
  cli,
  eventually,
  kill,
  type Proc,
  processEnv,
  show,
  spawnSteward,
  waitForState,
  waitUntilUp,
} from './helpers/processes.ts';

/**
 * Whole `steward` processes, killed and restarted. On PGlite the one process that holds the
 * data dir is both server and worker, and the CLI reaches it over HTTP; on PostgreSQL
 * separate `steward worker` processes share the database and the CLI opens it directly.
 */
describe.each(backends())('steward processes on %s', (backend) => {
  const procs: Proc[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) await kill(p);
    for (const c of cleanups.splice(0)) await c();
  });

  async function setup() {
    const { env, dir, cleanup } = await processEnv(backend, { STEWARD_ADMINS: 'local,bob' });
    cleanups.push(cleanup);
    return { env, deployLog: path.join(dir, 'deployments.log') };
  }

  /** A process that runs stages: `start` on PGlite (it owns the data dir), `worker` on PostgreSQL. */
  async function launchWorker(env: NodeJS.ProcessEnv): Promise<Proc> {
    const proc = spawnSteward([backend === 'pglite' ? 'start' : 'worker'], env);
    procs.push(proc);
    if (backend === 'pglite') await waitUntilUp(proc);
    else await eventually(async () => proc.output().includes('worker started'), 30_000, 'worker to start');
    return proc;
  }

  async function startRun(env: NodeJS.ProcessEnv, ...args: string[]): Promise<number> {
    const result = await cli(['run', ...args], env);
    expect(result.err).toBe('');
    const match = /^#(\d+) /.exec(result.out);
    expect(match, result.out).not.toBeNull();
    return Number(match?.[1]);
  }

  const deployments = (file: string) =>
    fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n') : [];

  it('survives SIGKILL while a run awaits approval: after a restart the approval deploys it once', async () => {
    const { env, deployLog } = await setup();
    const first = await launchWorker(env);
    const run = await startRun(env, 'demo', `deploy_log=${deployLog}`);
    await waitForState(run, 'awaitingApproval', env);
    await kill(first);

    await launchWorker(env);
    const own = await cli(['approve', String(run)], env);
    expect(own.code).toBe(1);
    expect(own.err).toMatch(/four eyes/);
    const approved = await cli(['approve', String(run)], await asUser('bob', env));
    expect(approved).toMatchObject({ code: 0, out: `#${run} deploying\n` });
    const detail = await waitForState(run, 'deployed', env);
    expect(deployments(deployLog)).toHaveLength(1);
    expect(detail.timeline.find((e) => e.to === 'deploying')).toMatchObject({
      actor: 'bob',
      type: 'approval.grant',
    });
  });

  it('expires an approval whose deadline passed while no process ran, and does not deploy', async () => {
    const { env, deployLog } = await setup();
    const first = await launchWorker(env);
    const run = await startRun(env, 'brief', `deploy_log=${deployLog}`);
    await waitForState(run, 'awaitingApproval', env);
    await kill(first, 'SIGTERM');
    await sleep(2500);

    await launchWorker(env);
    const detail = await waitForState(run, 'expired', env);
    expect(detail.timeline.at(-1)).toMatchObject({
      type: 'approval.expire',
      actor: 'steward',
      to: 'expired',
    });
    const late = await cli(['approve', String(run)], await asUser('bob', env));
    expect(late.err).toMatch(/is expired; approve is possible only while awaiting approval/);
    expect(deployments(deployLog)).toHaveLength(0);
  });

  it('retries a stage whose worker was SIGKILLed mid-stage on another worker: attempt 2, one deployment', async () => {
    const { env, deployLog } = await setup();
    const first = await launchWorker(env);
    // Only attempt 1 is slow: long enough to be killed mid-stage; attempt 2 finishes at once.
    const run = await startRun(
      env,
      'demo',
      'sleep_train=8000',
      'sleepattempts_train=1',
      `deploy_log=${deployLog}`,
    );
    await eventually(
      async () => (await show(run, env)).attempts.some((a) => a.stage === 'train' && a.status === 'running'),
      30_000,
      'training to start',
    );
    await kill(first);

    const second = await launchWorker(env);
    await waitForState(run, 'awaitingApproval', env, 60_000);
    await cli(['approve', String(run)], await asUser('bob', env));
    const detail = await waitForState(run, 'deployed', env);

    const train = detail.attempts.filter((a) => a.stage === 'train');
    expect(train.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'lost'],
      [2, 'done'],
    ]);
    expect(train[0]?.worker).toContain(`:${first.child.pid}`);
    expect(train[1]?.worker).toContain(`:${second.child.pid}`);
    expect(detail.run.attempts.train).toBe(2);
    expect(deployments(deployLog)).toHaveLength(1);
    expect(detail.timeline.filter((e) => e.to === 'deployed')).toHaveLength(1);
  });

  it('releases a running stage on SIGTERM without using up a retry: three rolling restarts, then it finishes', async () => {
    const { env } = await setup();
    const graceful = { ...env, STEWARD_SHUTDOWN_GRACE_SECONDS: '0.5' };
    // `strict` has retries: 0, so a single attempt counted as failed would fail the run.
    let worker = await launchWorker(graceful);
    // Attempts 1-3 are slow enough to be running at each SIGTERM; attempt 4 finishes at once.
    const run = await startRun(env, 'strict', 'sleep_train=5000', 'sleepattempts_train=3');
    for (let restart = 1; restart <= 3; restart++) {
      await eventually(
        async () =>
          (await show(run, env)).attempts.some(
            (a) => a.stage === 'train' && a.attempt === restart && a.status === 'running',
          ),
        30_000,
        `train attempt ${restart} to run`,
      );
      expect(await kill(worker, 'SIGTERM')).toBe(0);
      worker = await launchWorker(graceful);
    }
    const detail = await waitForState(run, 'awaitingApproval', env, 60_000);
    const train = detail.attempts.filter((a) => a.stage === 'train');
    expect(train.map((a) => [a.attempt, a.status])).toEqual([
      [1, 'released'],
      [2, 'released'],
      [3, 'released'],
      [4, 'done'],
    ]);
    // Released at once (no waiting for a lease to expire), each run again on the next process.
    expect(train[3]?.worker).toContain(`:${worker.child.pid}`);
    expect(detail.timeline.filter((e) => e.type === 'stage.failed')).toEqual(
      Array.from({ length: 3 }, () =>
        expect.objectContaining({ detail: expect.objectContaining({ cause: 'released' }) }),
      ),
    );
    // Four process starts in a row: on a busy 2-core machine that alone can take a minute.
  }, 150_000);

  it.runIf(backend === 'pglite')(
    'refuses a second steward start on the same data dir with a clear error',
    async () => {
      const { env } = await setup();
      await launchWorker(env);
      const second = spawnSteward(['start'], env);
      procs.push(second);
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(
        /the data dir .* is in use by process \d+ \(steward start, serving on port \d+/,
      );
    },
  );

  it('shows a clear message for an unknown pipeline', async () => {
    const { env } = await setup();
    const result = await cli(['run', 'dmeo'], env);
    expect(result.code).toBe(1);
    expect(result.err).toBe('error: pipeline not found: `dmeo`. Did you mean `demo`?\n');
  });
});
