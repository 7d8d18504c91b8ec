import path from 'node:path';
import { readCsvFile } from '../data/csv.ts';
import { profileTable } from '../data/profile.ts';
import { readSqlSource } from '../data/sql.ts';
import { generateSynthetic } from '../data/synthetic.ts';
import { dropColumns } from '../data/table.ts';
import { sourceParamsOf } from '../run-params.ts';
import { PipelineSpec } from '../spec.ts';
import type { StageFn } from '../stage.ts';
import { failOnBadInput } from './failures.ts';

type Source = PipelineSpec['source'];

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
    if (source.type === 'sql')
      return readSqlSource({
        query: source.query,
        url: source.url,
        // Without source.url the query runs on Steward's own database, confined to steward_reader.
        stewardUrl: process.env.DATABASE_URL,
        timeoutMs: source.timeout,
        pipeline: spec.name,
        signal: context.signal,
      });
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
