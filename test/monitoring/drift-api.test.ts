import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { generateChurn } from '../../src/stages/data/synthetic-churn.ts';
import type { Table } from '../../src/stages/data/table.ts';
import { databaseClock } from '../../src/workflows/clock.ts';
import { createMonitoring } from '../../src/workflows/monitoring.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { startApi, type TestApi } from '../helpers/api.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';
import { deployChurnModel, logPredictions } from '../helpers/monitoring.ts';
import { cli } from '../helpers/processes.ts';

const SPEC = demoSpec({
  name: 'churn',
  source: { type: 'synthetic', generator: 'churn' },
  features: { pii: ['customer_id', 'email'] },
});

describe('drift over the REST API', () => {
  let h: EngineHarness;
  let api: TestApi;

  beforeAll(async () => {
    h = await engineHarness('pglite', { specs: [SPEC] });
    const catalog = createMemoryCatalog([SPEC]);
    const service = createRunService({ database: h.database, engine: h.engine, catalog });
    const monitoring = createMonitoring({
      database: h.database,
      catalog,
      clock: databaseClock,
      log: silentLogger,
      runs: service,
    });
    api = await startApi(h, { service, monitoring });
    const loaded = await deployChurnModel(h.database, 'churn');
    await logPredictions(h.database, loaded, { rows: 1000, seed: 3, shift: 0.4 });
  }, 60_000);
  afterAll(async () => {
    api?.close();
    await h?.close();
  });

  it('says how to run a check before the first one, and refuses a viewer’s check', async () => {
    const none = await api.call('/api/pipelines/churn/drift', { user: 'victor' });
    expect(none.status).toBe(404);
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain(
      'steward drift churn',
    );
    const refused = await api.call('/api/pipelines/churn/drift/check', {
      method: 'POST',
      user: 'victor',
      json: {},
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'operator role',
    );
  });

  it('runs an operator’s check, stores it and pages no one; the latest report and the history follow', async () => {
    const checked = await api.call('/api/pipelines/churn/drift/check', {
      method: 'POST',
      user: 'alice',
      json: {},
    });
    expect(checked.status).toBe(201);
    const report = (await checked.json()) as {
      trigger: string;
      requestedBy: string;
      driftedColumns: string[];
      report: { drift: { columns: { column: string; statistics: Record<string, unknown> }[] } };
    };
    expect(report).toMatchObject({
      trigger: 'manual',
      requestedBy: 'alice',
      driftedColumns: ['monthly_charges'],
    });
    const charges = report.report.drift.columns.find((c) => c.column === 'monthly_charges');
    expect(Object.keys(charges?.statistics ?? {})).toEqual(
      expect.arrayContaining(['ks', 'psi', 'wasserstein', 'wassersteinNorm']),
    );
    const latest = await api.call('/api/pipelines/churn/drift', { user: 'victor' });
    expect(await latest.json()).toMatchObject({ trigger: 'manual', driftedColumns: ['monthly_charges'] });
    const history = (await (
      await api.call('/api/pipelines/churn/drift/history', { user: 'victor' })
    ).json()) as {
      history: unknown[];
    };
    expect(history.history).toHaveLength(1);
    const alerts = (await (await api.call('/api/pipelines/churn/alerts', { user: 'victor' })).json()) as {
      alerts: unknown[];
    };
    expect(alerts.alerts).toEqual([]);
  });

  it('answers 404 for an alert that does not exist, and 400 for a body it does not know', async () => {
    expect((await api.call('/api/alerts/99', { user: 'alice' })).status).toBe(404);
    expect(
      (await api.call('/api/alerts/abc/snooze', { method: 'POST', user: 'alice', json: {} })).status,
    ).toBe(404);
    const bad = await api.call('/api/pipelines/churn/drift/check', {
      method: 'POST',
      user: 'alice',
      json: { window: 5 },
    });
    expect(bad.status).toBe(400);
  });
});

describe('steward drift <reference.csv> <current.csv>', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-drift-'));
  const write = (name: string, table: Table, shift = 0) => {
    const file = path.join(dir, name);
    const names = table.columns.map((c) => c.name);
    const lines = [names.join(',')];
    for (let i = 0; i < table.rowCount; i++) {
      lines.push(
        table.columns
          .map((c) => {
            const v = c.values[i];
            return c.name === 'monthly_charges'
              ? String(Math.round(Number(v) * (1 + shift) * 100) / 100)
              : String(v);
          })
          .join(','),
      );
    }
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  const reference = write('reference.csv', generateChurn({ rows: 3000, seed: 1 }));
  const same = write('same.csv', generateChurn({ rows: 2000, seed: 2 }));
  const shifted = write('shifted.csv', generateChurn({ rows: 2000, seed: 3 }), 0.5);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints every statistic per column with the deciding test marked, and exits 0 without dataset drift', async () => {
    const { code, out } = await cli(
      ['drift', reference, shifted, '--columns', 'tenure,monthly_charges,plan'],
      {},
    );
    expect(code).toBe(0);
    expect(out).toMatch(/monthly_charges/);
    expect(out).toMatch(/KS/i);
    expect(out).toMatch(/PSI/i);
    expect(out).toMatch(/1 of 3/);
  });

  it('exits 1 on dataset drift and gives JSON with --json', async () => {
    const { code, out } = await cli(
      ['drift', reference, shifted, '--columns', 'monthly_charges', '--json'],
      {},
    );
    expect(code).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ datasetDrift: true, drifted: 1, monitored: 1 });
    expect((await cli(['drift', reference, same, '--json'], {})).code).toBe(0);
  });

  it('names what is wrong: a missing file, a column not in both', async () => {
    const missing = await cli(['drift', reference, path.join(dir, 'nope.csv')], {});
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('nope.csv is not a file');
    const column = await cli(['drift', reference, same, '--columns', 'tenure,nope'], {});
    expect(column.err).toContain('--columns names columns not in both files: nope');
  });
});
