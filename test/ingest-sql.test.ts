import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../src/stages/pipeline/ingest.ts';
import { PipelineSpec } from '../src/stages/spec.ts';
import { stageRequest } from './helpers/engine.ts';

const url = process.env.DATABASE_URL;
const context = { progress: () => {}, signal: new AbortController().signal };
const request = (source: unknown) =>
  stageRequest(
    PipelineSpec.parse({
      name: 'orders',
      task: 'classification',
      source,
      target: 'returned',
      features: { pii: ['email'] },
      model: { type: 'logistic' },
    }),
  );

describe.runIf(url)('ingest from a SQL source (PostgreSQL)', () => {
  const table = `steward_orders_${process.pid}`;
  beforeAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`create table ${table} (amount numeric, channel text, email text, returned int)`);
    await client.query(
      `insert into ${table} select (i % 90) + 0.5, case when i % 3 = 0 then 'web' else 'shop' end, 'u' || i || '@x.io', i % 2 from generate_series(1, 60) i`,
    );
    await client.end();
  });
  afterAll(async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`drop table if exists ${table}`);
    await client.end();
  });

  it('reads the query into a typed table, without the PII column', async () => {
    const result = await ingest(
      request({ type: 'sql', query: `select * from ${table} order by amount`, url }),
      context,
    );
    expect(result.output).toMatchObject({
      rows: 60,
      piiRemoved: 1,
      columns: [
        { name: 'amount', type: 'numeric' },
        { name: 'channel', type: 'categorical' },
        { name: 'returned', type: 'numeric' },
      ],
    });
    expect(JSON.stringify(result)).not.toContain('@x.io');
  });

  it('ends the run with the database error for a bad query, without retrying', async () => {
    await expect(
      ingest(request({ type: 'sql', query: 'select * from no_such_table', url }), context),
    ).rejects.toMatchObject({
      fatal: true,
      message: expect.stringContaining('relation "no_such_table" does not exist'),
    });
  });
});
