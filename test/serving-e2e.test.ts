import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDataDir } from './helpers/database.ts';
import { cli, eventually, kill, type Proc, serverUrlOf, waitUntilUp } from './helpers/processes.ts';
import { spawnProduct } from './helpers/product.ts';

const ROW = {
  tenure: 3,
  monthly_charges: 95.5,
  total_charges: 286.5,
  plan: 'premium',
  support_calls: 6,
  contract: 'month',
};

type Answer = { ok: boolean; status: number; version?: number; error?: string };

/**
 * The product as `npm start` runs it, with the repository's churn pipeline and Steward's own
 * stages: two training runs approved by someone else, a rollback by the admin, and 20
 * clients predicting all along, on the v1 and on the v2 protocol.
 */
describe('serving a deployed model, while it is replaced and rolled back', () => {
  let server: Proc;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let admin: Record<string, string>;
  const tokens: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-serve-'));
    env = { STEWARD_DATA_DIR: path.join(dir, 'data'), PORT: '0', DATABASE_URL: '', STEWARD_CONSOLE: 'off' };
    await seedDataDir(String(env.STEWARD_DATA_DIR));
    server = spawnProduct(['start'], env);
    await waitUntilUp(server, 60_000);
    base = serverUrlOf(env);
    const secret = fs.readFileSync(path.join(String(env.STEWARD_DATA_DIR), 'secret'), 'utf8').trim();
    admin = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    // Four eyes counts credentials: alice and bob each get a token of their own.
    for (const [user, role] of [
      ['alice', 'operator'],
      ['bob', 'approver'],
    ] as const) {
      const post = (route: string, body: unknown) =>
        fetch(`${base}${route}`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
      expect((await post('/api/roles', { user, role })).status).toBe(201);
      const made = (await (await post('/api/tokens', { user })).json()) as { token: string };
      tokens[user] = { authorization: `Bearer ${made.token}`, 'content-type': 'application/json' };
    }
  }, 120_000);

  afterAll(async () => {
    if (server) await kill(server, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const api = async (method: string, route: string, body?: unknown, as?: 'alice' | 'bob') => {
    const res = await fetch(`${base}${route}`, {
      method,
      headers: as ? (tokens[as] ?? {}) : admin,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const stateOf = async (run: number) =>
    ((await api('GET', `/api/runs/${run}`)).run as { state: string }).state;
  const waitFor = (run: number, state: string) =>
    eventually(async () => (await stateOf(run)) === state, 90_000, `run #${run} to be ${state}`);

  /** alice trains: the new version waits for someone else's approval. */
  async function trained(): Promise<number> {
    const started = await api('POST', '/api/runs', { pipeline: 'churn' }, 'alice');
    const run = (started.run as { number: number }).number;
    await waitFor(run, 'awaitingApproval');
    return run;
  }

  const predictV1 = async (): Promise<Answer> => {
    const res = await fetch(`${base}/v1/models/churn:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [ROW, { ...ROW, tenure: 60, contract: 'two_year' }] }),
    });
    const body = (await res.json()) as { version?: number; error?: unknown };
    return { ok: res.ok, status: res.status, ...(body.version ? { version: body.version } : {}) };
  };
  const predictV2 = async (): Promise<Answer> => {
    const inputs = Object.entries(ROW).map(([name, value]) => ({
      name,
      shape: [1],
      datatype: typeof value === 'number' ? 'FP64' : 'BYTES',
      data: [value],
    }));
    const res = await fetch(`${base}/v2/models/churn/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'e2e', inputs }),
    });
    const body = (await res.json()) as { model_version?: string; error?: string };
    return {
      ok: res.ok,
      status: res.status,
      ...(body.model_version ? { version: Number(body.model_version) } : {}),
      ...(body.error ? { error: body.error } : {}),
    };
  };

  /** 20 clients, half on each protocol, predicting until `stop` is called; every answer kept. */
  function clients(n = 20) {
    let running = true;
    const answers: Answer[][] = Array.from({ length: n }, () => []);
    const done = Promise.all(
      answers.map(async (mine, i) => {
        while (running) {
          try {
            mine.push(await (i % 2 ? predictV2() : predictV1()));
          } catch (error) {
            mine.push({ ok: false, status: 0, error: (error as Error).message });
          }
        }
      }),
    );
    return {
      answers,
      latest: () => answers.map((a) => a.at(-1)?.version),
      async stop() {
        running = false;
        await done;
        return answers.flat();
      },
    };
  }

  it('answers with the approved version, switches on promotion and back on rollback, failing no request', async () => {
    expect((await predictV1()).status).toBe(404);

    const first = await trained();
    await api('POST', `/api/runs/${first}/approve`, {}, 'bob');
    await waitFor(first, 'deployed');
    await eventually(async () => (await predictV1()).version === 1, 10_000, 'v1 to answer');
    expect(await predictV2()).toMatchObject({ ok: true, version: 1 });

    const second = await trained();
    const load = clients();
    await eventually(
      async () => load.answers.every((a) => a.length > 0),
      10_000,
      'every client to be answered',
    );
    await api('POST', `/api/runs/${second}/approve`, {}, 'bob');
    await waitFor(second, 'deployed');
    await eventually(async () => load.latest().every((v) => v === 2), 10_000, 'every client to get v2');

    // The admin's rollback needs no approval: the stored undo puts v1 back.
    const rollback = await cli(['rollback', 'churn'], env, true);
    expect(rollback.code).toBe(0);
    await eventually(async () => load.latest().every((v) => v === 1), 30_000, 'every client to get v1 back');
    const all = await load.stop();

    expect(all.filter((a) => !a.ok)).toEqual([]);
    expect(all.length).toBeGreaterThan(200);
    expect(new Set(all.map((a) => a.version))).toEqual(new Set([1, 2]));
    // Each client saw v1, then v2, then v1 again: never a version out of order.
    for (const mine of load.answers) {
      const switches = mine.map((a) => a.version).filter((v, i, all) => i === 0 || v !== all[i - 1]);
      expect(switches).toEqual([1, 2, 1]);
    }

    const history = await cli(['history', 'churn'], env, true);
    expect(history.out).toMatch(/rollback +v1 +v2 +#3 +local/);
    expect(history.out).toMatch(/deploy \(undone\) +v2 +v1 +#2 +alice +bob/);
  }, 240_000);
});
