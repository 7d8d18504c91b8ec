import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestDatabase, testDatabase } from './helpers/database.ts';
import { churnModels, churnRows, registerVersions, setAlias } from './helpers/models.ts';
import { eventually, kill, type Proc, waitUntilUp } from './helpers/processes.ts';
import { spawnProduct } from './helpers/product.ts';

const TOKEN = 'replica-test-token';
const PIPELINES = fileURLToPath(new URL('../pipelines', import.meta.url));

/** The port a `steward start` says it is up on (on PostgreSQL no data dir lock records it). */
function urlOf(proc: Proc): string {
  const port = / is up on http:\/\/[^:\s]+:(\d+)/.exec(proc.output())?.[1];
  if (!port) throw new Error(`no port in the output:\n${proc.output()}`);
  return `http://127.0.0.1:${port}`;
}

/**
 * Two `steward start` replicas of the product on one PostgreSQL: a deployment requested
 * through replica A is served by replica B within a second, and B fails no request while
 * it switches. Nothing but the database connects them (LISTEN/NOTIFY on `steward_models`).
 */
describe.runIf(process.env.DATABASE_URL)('hot swap across two replicas on one PostgreSQL', () => {
  let t: TestDatabase;
  const dirs: string[] = [];
  let a: Proc | undefined;
  let b: Proc | undefined;

  beforeAll(async () => {
    t = await testDatabase('postgres');
    const { transform, gbm, logistic } = await churnModels();
    const runs = await registerVersions(
      t.database,
      'churn',
      [
        { version: 1, model: gbm, modelType: 'gradient_boosting' },
        { version: 2, model: logistic, modelType: 'logistic' },
      ],
      { transform },
    );
    await setAlias(t.database, 'churn', { version: 1, runId: runs.get(1) as string });
    const spawn = () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-replica-'));
      dirs.push(dir);
      return spawnProduct(['start'], {
        DATABASE_URL: t.url,
        STEWARD_DATA_DIR: path.join(dir, 'data'),
        STEWARD_PIPELINES_DIR: PIPELINES,
        STEWARD_API_TOKEN: TOKEN,
        PORT: '0',
      });
    };
    a = spawn();
    b = spawn();
    await Promise.all([waitUntilUp(a, 60_000), waitUntilUp(b, 60_000)]);
  }, 120_000);
  afterAll(async () => {
    if (a) await kill(a, 'SIGTERM');
    if (b) await kill(b, 'SIGTERM');
    await t?.close();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a promotion made through A from B within a second, failing no request', async () => {
    const { table } = await churnModels();
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const body = JSON.stringify({ instances: churnRows(table, 3) });
    const predictOn = async (base: string) => {
      const res = await fetch(`${base}/v1/models/churn/predict`, { method: 'POST', headers: auth, body });
      const answer = (await res.json()) as { version?: number };
      return { ok: res.ok, version: answer.version, at: Date.now() };
    };
    const [baseA, baseB] = [urlOf(a as Proc), urlOf(b as Proc)];
    await eventually(async () => (await predictOn(baseB)).version === 1, 10_000, 'B to serve v1');

    // B is asked all along; A is asked to deploy v2 (the admin's deploy needs no approval).
    const seen: Awaited<ReturnType<typeof predictOn>>[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) seen.push(await predictOn(baseB));
    })();
    const deploy = await fetch(`${baseA}/api/pipelines/churn/deploy`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ version: 2 }),
    });
    expect(deploy.status).toBe(201);
    const history = await eventually(
      async () => {
        const res = await fetch(`${baseA}/api/pipelines/churn/history`, { headers: auth });
        const { history } = (await res.json()) as { history: { version: number; from: string }[] };
        return history[0]?.version === 2 ? history : undefined;
      },
      30_000,
      'the deploy run to move the alias',
    );
    await eventually(async () => seen.at(-1)?.version === 2, 5_000, 'B to serve v2');
    polling = false;
    await poll;

    const promotedAt = Date.parse(history[0]?.from ?? '');
    const firstOnB = seen.find((s) => s.version === 2)?.at ?? Number.POSITIVE_INFINITY;
    expect(firstOnB - promotedAt).toBeLessThan(1000);
    expect(seen.filter((s) => !s.ok)).toEqual([]);
    // Once B answered with v2 it never went back to v1.
    expect(seen.slice(seen.findIndex((s) => s.version === 2)).every((s) => s.version === 2)).toBe(true);
    expect((await predictOn(baseA)).version).toBe(2);
  }, 90_000);
});
