import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cli,
  kill,
  type Proc,
  processEnv,
  serverUrlOf,
  spawnSteward,
  waitUntilUp,
} from '../helpers/processes.ts';
import { findLeaks, LEAKS } from '../helpers/suite-logs.ts';

const PASSWORD = 'Pa55-word-of-the-suite';
const API_TOKEN = 'api-token-of-the-suite';
const leaksIn = (text: string) => LEAKS.filter(({ pattern }) => pattern.test(text)).map((l) => l.what);

describe('what Steward logs', () => {
  it('names DATABASE_URL without its password when PostgreSQL does not answer, with no stack', async () => {
    const { env, cleanup } = await processEnv('pglite');
    try {
      const url = `postgres://steward:${PASSWORD}@127.0.0.1:1/steward`;
      const proc = spawnSteward(['start'], { ...env, DATABASE_URL: url });
      expect(await proc.exited).toBe(1);
      const output = proc.output();
      expect(output).toContain(
        'cannot connect to PostgreSQL at DATABASE_URL=postgres://steward:***@127.0.0.1:1/steward',
      );
      expect(output).toContain('Check that the server is running');
      expect(output).not.toContain(PASSWORD);
      expect(output).not.toMatch(/\n\s+at /);
      const cliRun = await cli(['runs'], { ...env, DATABASE_URL: url });
      expect(cliRun.err).toMatch(
        /^error: cannot connect to PostgreSQL at DATABASE_URL=postgres:\/\/steward:\*\*\*@/,
      );
    } finally {
      await cleanup();
    }
  });

  describe('a server at debug level, used with every kind of credential', () => {
    let env: NodeJS.ProcessEnv;
    let cleanup: () => Promise<void>;
    let server: Proc;
    beforeAll(async () => {
      ({ env, cleanup } = await processEnv('pglite', {
        STEWARD_API_TOKEN: API_TOKEN,
        STEWARD_LOG_LEVEL: 'debug',
      }));
      server = spawnSteward(['start'], env);
      await waitUntilUp(server);
    });
    afterAll(async () => {
      if (server) await kill(server, 'SIGTERM');
      await cleanup?.();
    });

    it('logs no token, secret or password', async () => {
      const base = serverUrlOf(env);
      const token = (await cli(['token', 'create', 'U02'], env)).out.trim();
      for (const authorization of [
        `Bearer ${API_TOKEN}`,
        `Bearer ${token}`,
        'Bearer stw_wrong-token-that-looks-right-but-is-no-ones-00000',
      ]) {
        await fetch(`${base}/api/runs`, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/json' },
          body: JSON.stringify({ pipeline: 'demo', params: { note: token } }),
        });
      }
      await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
      await cli(['run', 'demo', `seed=${token.length}`], env);
      await kill(server, 'SIGTERM');
      expect(leaksIn(server.output())).toEqual([]);
    });
  });

  it('finds what the suite-wide search looks for, so a leak anywhere in the suite fails it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-leaks-'));
    fs.writeFileSync(path.join(dir, 'clean.log'), '{"msg":"run created","run":1}\n');
    fs.writeFileSync(
      path.join(dir, 'leaky.log'),
      `authorization: Bearer stw_${'A'.repeat(43)}\nparams: \\x1f8b0800\n${PASSWORD}\n`,
    );
    expect(findLeaks(dir).sort()).toEqual([
      'leaky.log: a password from a DATABASE_URL',
      'leaky.log: a personal API token',
      'leaky.log: gzipped dataset bytes (hex)',
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
