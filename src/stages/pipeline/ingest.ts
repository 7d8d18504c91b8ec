import path from 'node:path';
import pg from 'pg';
import { readCsvFile } from '../data/csv.ts';
import { createCollector } from '../data/csv-collect.ts';
import { profileTable } from '../data/profile.ts';
import { generateSynthetic } from '../data/synthetic.ts';
import { dropColumns, type Table } from '../data/table.ts';
import { sourceParamsOf } from '../run-params.ts';
import { PipelineSpec } from '../spec.ts';
import { StageFailure, type StageFn } from '../stage.ts';
import { failOnBadInput } from './failures.ts';

type Source = PipelineSpec['source'];

/** Reads a SQL source into a table with the same typing rules as CSV. */
async function readSql(source: Extract<Source, { type: 'sql' }>, pipeline: string): Promise<Table> {
  const url = source.url ?? process.env.DATABASE_URL;
  if (!url) {
    throw new StageFailure(
      `${pipeline}: a sql source needs source.url or DATABASE_URL to say which database to query`,
    );
  }
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const result = await client.query({ text: source.query, rowMode: 'array' });
    const collector = createCollector('sql query');
    let line = 1;
    collector.push({ record: result.fields.map((f) => f.name), info: { lines: line, empty_lines: 0 } });
    for (const row of result.rows as unknown[][]) {
      line++;
      const record = row.map((v) =>
        v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v),
      );
      collector.push({ record, info: { lines: line, empty_lines: 0 } });
    }
    return collector.finish();
  } catch (error) {
    if (error instanceof StageFailure) throw error;
    // The query or the connection is wrong: retrying would not help.
    throw new StageFailure(`${pipeline}: the sql source failed: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Run params that adjust a synthetic source: `rows=`, `seed=`, `drift=` (checked as the spec's fields are). */
function syntheticOptions(
  spec: PipelineSpec,
  source: Extract<Source, { type: 'synthetic' }>,
  params: Record<string, string>,
) {
  const set = sourceParamsOf(spec, params);
  return { rows: set.rows ?? source.rows, seed: set.seed ?? source.seed, drift: set.drift ?? source.drift };
}

/**
 * Ingest: reads the source, removes PII columns (they go no further than this function),
 * profiles the data and names the snapshot by its content hash.
 */
export const ingest: StageFn = async (request, context) => {
  const spec = PipelineSpec.parse(request.run.spec);
  const { source } = spec;
  context.progress(`reading ${source.type} source`);
  const raw = await failOnBadInput('ingest', async () => {
    if (source.type === 'csv')
      return readCsvFile(source.path, {
        numeric: spec.features.numeric ?? [],
        source: path.basename(source.path),
        signal: context.signal,
      });
    if (source.type === 'sql') return readSql(source, spec.name);
    return generateSynthetic(source.generator, syntheticOptions(spec, source, request.run.params));
  });
  const present = new Set(raw.columns.map((c) => c.name));
  const pii = spec.features.pii.filter((name) => present.has(name));
  const table = dropColumns(raw, pii);
  const profile = profileTable(table);
  const described =
    source.type === 'csv'
      ? { type: 'csv', file: path.basename(source.path) }
      : source.type === 'sql'
        ? { type: 'sql', query: source.query }
        : { ...source, ...syntheticOptions(spec, source, request.run.params) };
  return {
    output: {
      datasetHash: profile.hash,
      rows: table.rowCount,
      columns: table.columns.map((c) => ({ name: c.name, type: c.type })),
      // How many, not which: the spec names them, and no artefact after this one should.
      piiRemoved: pii.length,
    },
    summary: {
      dataset: profile.hash,
      rows: table.rowCount,
      columns: table.columns.length,
      piiRemoved: pii.length,
    },
    artifacts: { newDataset: { hash: profile.hash, source: described, table, profile } },
  };
};
