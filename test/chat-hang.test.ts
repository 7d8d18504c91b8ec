import { afterEach, describe, expect, it } from 'vitest';
import { backends } from './helpers/database.ts';
import { signedHeaders, slashCommand, startFakeSlack } from './helpers/fake-slack.ts';
import {
  cli,
  eventually,
  kill,
  type Proc,
  processEnv,
  spawnSteward,
  waitForState,
  waitUntilUp,
} from './helpers/processes.ts';

const SECRET = 'hang-test-secret';

describe.each(backends())('a Slack that never answers, on %s', (backend) => {
  const procs: Proc[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) await kill(p);
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('neither slows runs started from the CLI nor keeps steward start from stopping', async () => {
    // Slack answers everything except `chat.update`, which it never answers.
    const slack = await startFakeSlack({ hang: ['chat.update'] });
    cleanups.push(slack.close);
    const { env, cleanup } = await processEnv(backend, {
      STEWARD_ADMINS: 'local,U_ALICE',
      STEWARD_SHUTDOWN_GRACE_SECONDS: '2',
      STEWARD_LEASE_SECONDS: '30',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: slack.url,
    });
    cleanups.push(cleanup);
    const server = spawnSteward(['start'], env);
    procs.push(server);
    await waitUntilUp(server);
    const port = Number(/ is up on http:\/\/[^:]+:(\d+)/.exec(server.output())?.[1]);

    const startRun = async () => {
      const result = await cli(['run', 'demo'], env);
      return Number(/^#(\d+) /.exec(result.out)?.[1]);
    };
    const timeToGate = async () => {
      const t0 = performance.now();
      const run = await startRun();
      await waitForState(run, 'awaitingApproval', env);
      return performance.now() - t0;
    };

    const baseline = await timeToGate();

    // A run from Slack: its root message is posted, and then every update of it hangs.
    const body = slashCommand('run demo');
    const response = await fetch(`http://127.0.0.1:${port}/slack/events`, {
      method: 'POST',
      headers: signedHeaders(SECRET, body),
      body,
    });
    expect(response.status).toBe(200);
    await eventually(
      async () => slack.calls.some((c) => c.method === 'chat.update'),
      30_000,
      'an update to hang',
    );

    const whileHung = await timeToGate();
    expect(whileHung).toBeLessThan(2 * baseline + 500);

    const t0 = performance.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(2000 + 5000);
  });
});
