import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';
import { seedDataDir } from '../helpers/database.ts';
import { churnModels, churnRows, registerVersions, setAlias } from '../helpers/models.ts';

const PIPELINES = fileURLToPath(new URL('../../pipelines', import.meta.url));

describe('serving in the app', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-serve-'));
  beforeAll(() => seedDataDir(dir));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('serves from listen() on, with the app’s metrics, and writes the prediction log on close', async () => {
    const config = loadConfig({
      STEWARD_DATA_DIR: dir,
      STEWARD_PIPELINES_DIR: PIPELINES,
      PORT: '0',
      STEWARD_CONSOLE: 'off',
    });
    expect(config.servingAuth).toBe('none');
    const app = await openApp({ config, log: silentLogger, command: 'start' });
    let closed = false;
    try {
      const churn = await churnModels();
      const runs = await registerVersions(
        app.database,
        'served',
        [{ version: 1, model: churn.gbm, modelType: 'gradient_boosting' }],
        { transform: churn.transform },
      );
      await setAlias(app.database, 'served', { version: 1, runId: runs.get(1) as string });
      const server = await app.listen();
      const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      expect(await (await fetch(`${base}/v2/health/ready`)).json()).toEqual({ ready: true });
      const res = await fetch(`${base}/v1/models/served:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: churnRows(churn.table, 3) }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { version: number }).version).toBe(1);
      const predicted = (await app.metrics.predictions.get()).values;
      expect(predicted).toEqual([
        expect.objectContaining({ labels: { model: 'served', version: '1', role: 'production' }, value: 3 }),
      ]);
      await app.close(0);
      closed = true;
      const written = (await app.metrics.predictionLogWritten.get()).values;
      expect(written.find((v) => v.labels.model === 'served')?.value).toBe(3);
    } finally {
      if (!closed) await app.close(0);
    }
  });
});
