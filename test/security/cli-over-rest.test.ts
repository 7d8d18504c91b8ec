import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretPath } from '../../src/http/local-secret.ts';
import {
  cli,
  kill,
  type Proc,
  processEnv,
  serverUrlOf,
  spawnSteward,
  waitForState,
  waitUntilUp,
} from '../helpers/processes.ts';

/**
 * Every CLI verb against a running `steward start` on the embedded database: the CLI finds
 * the server through the data dir's lock and proves who it is with the data dir's secret,
 * or with STEWARD_TOKEN.
 */
describe('the CLI over REST', () => {
  let env: NodeJS.ProcessEnv;
  let cleanup: () => Promise<void>;
  let server: Proc;
  beforeAll(async () => {
    ({ env, cleanup } = await processEnv('pglite'));
    server = spawnSteward(['start'], env);
    await waitUntilUp(server);
  });
  afterAll(async () => {
    if (server) await kill(server, 'SIGTERM');
    await cleanup?.();
  });

  it('keeps the local secret readable by its owner only, and says where it is instead of printing it to a log', () => {
    const file = secretPath(env.STEWARD_DATA_DIR as string);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const secret = fs.readFileSync(file, 'utf8').trim();
    expect(server.output()).toContain(`?token=<the contents of ${file}>`);
    expect(server.output()).not.toContain(secret);
  });

  it('runs whoami, grant, roles, token create|list|revoke, run, approve and revoke through the server', async () => {
    expect(await cli(['whoami'], env)).toMatchObject({
      code: 0,
      out: "local, through the data dir's secret: admin everywhere\n",
    });
    expect(await cli(['grant', 'U02', 'approver'], env)).toMatchObject({
      code: 0,
      out: 'U02 is approver everywhere\n',
    });
    expect(await cli(['grant', 'U03', 'operator', 'demo'], env)).toMatchObject({ code: 0 });
    const roles = JSON.parse((await cli(['roles', '--json'], env)).out) as {
      user: string;
      role: string;
      pipeline: string;
      grantedBy: string;
    }[];
    expect(roles).toContainEqual(
      expect.objectContaining({ user: 'U02', role: 'approver', pipeline: '*', grantedBy: 'local' }),
    );
    expect((await cli(['roles'], env)).out).toMatch(/U03 +demo +operator +local/);

    const made = await cli(['token', 'create', 'U02', '--name', 'laptop'], env);
    expect(made.code).toBe(0);
    const token = made.out.trim();
    expect(made.err).toMatch(/^tok_\w+ for U02 \(laptop\); it is shown only now/);
    const listed = await cli(['token', 'list'], env);
    expect(listed.out).toMatch(/tok_\w+ +U02 +laptop +all +local/);
    expect(listed.out).not.toContain(token);
    const u02 = { ...env, STEWARD_TOKEN: token };
    expect((await cli(['whoami'], u02)).out).toBe('U02, through a personal API token: approver everywhere\n');

    const run = await cli(['run', 'demo', '--wait'], env);
    expect(run).toMatchObject({ code: 0, out: '#1 demo awaiting approval\n' });
    expect(await cli(['approve', '1'], u02)).toMatchObject({ code: 0, out: '#1 deploying\n' });
    const shown = await waitForState(1, 'deployed', env);
    expect(shown.timeline.find((e) => e.type === 'approval.grant')).toMatchObject({
      actor: 'U02',
      via: null,
    });

    const id = /^(tok_\w+)/.exec(made.err)?.[1] ?? '';
    expect(await cli(['token', 'revoke', id], env)).toMatchObject({ code: 0, out: `${id} revoked\n` });
    const refused = await cli(['whoami'], u02);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/wrong or revoked token/);
    expect(await cli(['revoke', 'U03', 'demo'], env)).toMatchObject({
      code: 0,
      out: 'U03 no longer has a role on demo\n',
    });
    expect(await cli(['revoke', 'U03', 'demo'], env)).toMatchObject({
      code: 1,
      err: expect.stringContaining('held no role on demo'),
    });
  });

  it('refuses a non-admin acting for someone else, and says how to get a token when there is none', async () => {
    const made = await cli(['token', 'create', 'U03'], env);
    const u03 = { ...env, STEWARD_TOKEN: made.out.trim() };
    const claimed = await cli(['grant', 'U03', 'admin'], u03);
    expect(claimed).toMatchObject({
      code: 1,
      err: expect.stringContaining('Only an admin can change roles'),
    });
    const as = await cli(['cancel', '1', '--as', 'U02'], u03);
    expect(as).toMatchObject({
      code: 1,
      err: expect.stringContaining('only an admin can act for someone else; you are U03'),
    });
    const remote = await cli(['whoami'], { ...env, STEWARD_URL: serverUrlOf(env) });
    expect(remote).toMatchObject({
      code: 1,
      err: expect.stringContaining('set STEWARD_TOKEN to your personal API token'),
    });
    expect(remote.err).not.toContain('plain http');
    const far = await cli(['whoami'], {
      ...env,
      STEWARD_URL: 'http://steward.invalid:1',
      STEWARD_TOKEN: 'stw_x',
    });
    expect(far.err).toContain('warning: http://steward.invalid:1 is plain http');
  });
});
