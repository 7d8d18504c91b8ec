import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readLocalSecret } from '../src/http/local-secret.ts';
import { backends } from './helpers/database.ts';
import { blockAction, signedHeaders, startFakeSlack } from './helpers/fake-slack.ts';
import {
  cli,
  eventually,
  kill,
  type Proc,
  processEnv,
  show,
  spawnSteward,
  waitForState,
} from './helpers/processes.ts';

const SECRET = 'crash-test-signing-secret';

/**
 * A real `steward start` with Slack in HTTP mode, against the fake Slack API, killed right
 * after it acknowledged an Approve click (STEWARD_CRASH_AT=slack.after-ack): Slack never
 * sends an acknowledged click again, so the approval must survive in the chat inbox.
 */
describe.each(backends())('a Slack click across a crash, on %s', (backend) => {
  const procs: Proc[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0))
      if (p.child.exitCode === null && p.child.signalCode === null) await kill(p);
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup() {
    const fake = await startFakeSlack();
    const { env, dir, cleanup } = await processEnv(backend, {
      STEWARD_ADMINS: 'local,U_BOB',
      SLACK_BOT_TOKEN: 'xoxb-crash-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: fake.url,
      STEWARD_CRASH_AT: '',
    });
    cleanups.push(async () => {
      await fake.close();
      await cleanup();
    });
    return { env, deployLog: path.join(dir, 'deployments.log') };
  }

  async function start(env: NodeJS.ProcessEnv): Promise<{ proc: Proc; url: string }> {
    const proc = spawnSteward(['start'], env);
    procs.push(proc);
    const url = await eventually(
      async () => / is up on (http:\/\/[^\s]+) /.exec(proc.output())?.[1],
      60_000,
      'steward start',
    ).catch((error: Error) => {
      throw new Error(`${error.message}; output:\n${proc.output()}`);
    });
    return { proc, url };
  }

  it('applies an Approve acked just before a SIGKILL once the process is back, and only once', async () => {
    const { env, deployLog } = await setup();
    const first = await start({ ...env, STEWARD_CRASH_AT: 'slack.after-ack' });
    // On PGlite the CLI reaches the running process over HTTP; give it the URL it serves on,
    // and the data dir's secret as its credential.
    const over = (url: string) => ({
      ...env,
      STEWARD_URL: url,
      STEWARD_TOKEN: readLocalSecret(String(env.STEWARD_DATA_DIR)),
    });
    const cliEnv = backend === 'pglite' ? over(first.url) : env;
    const started = await cli(['run', 'demo', `deploy_log=${deployLog}`, '--json'], cliEnv);
    expect(started.code, started.err).toBe(0);
    const number = (JSON.parse(started.out) as { number: number }).number;
    const waiting = await waitForState(number, 'awaitingApproval', cliEnv);

    const body = blockAction('run.approve', JSON.stringify({ run: number, v: waiting.run.version }), {
      user: 'U_BOB',
      actionTs: '1700000500.000001',
    });
    const response = await fetch(`${first.url}/slack/events`, {
      method: 'POST',
      headers: signedHeaders(SECRET, body),
      body,
    });
    expect(response.status).toBe(200); // Slack has its ack: it will not send this click again
    await first.proc.exited;
    expect(first.proc.child.signalCode).toBe('SIGKILL');

    const second = await start(env);
    const afterEnv = backend === 'pglite' ? over(second.url) : env;
    const detail = await waitForState(number, 'deployed', afterEnv, 45_000);
    const grants = detail.timeline.filter((e) => e.type === 'approval.grant');
    expect(grants).toEqual([expect.objectContaining({ actor: 'U_BOB', to: 'deploying' })]);
    expect(fs.readFileSync(deployLog, 'utf8').trim().split('\n')).toHaveLength(1);
    // Nothing is left pending, and the restart did not apply it a second time.
    await eventually(
      async () => second.proc.output().includes('handling a stored chat request'),
      10_000,
      'the drain pass',
    );
    expect((await show(number, afterEnv)).timeline.filter((e) => e.type === 'approval.grant')).toHaveLength(
      1,
    );
  }, 240_000);
});
