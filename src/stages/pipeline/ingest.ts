import path from 'node:path';
import { readCsvFile } from '../data/csv.ts';
import { profileTable } from '../data/profile.ts';
import { readSqlSource } from '../data/sql.ts';
import { generateSynthetic } from '../data/synthetic.ts';
import { dropColumns, type Table } from '../data/table.ts';
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
 * Reads the spec's source as it is now, PII columns included (the caller drops them):
 * ingest for a run, and monitoring when it compares the source with the training data.
 */
export function readSource(
  spec: PipelineSpec,
  params: Record<string, string>,
  signal?: AbortSignal,
): Promise<Table> {
  const { source } = spec;
  if (source.type === 'csv')
    return readCsvFile(source.path, {
      numeric: spec.features.numeric ?? [],
      source: path.basename(source.path),
      ...(signal ? { signal } : {}),
    });
  if (source.type === 'sql')
    return readSqlSource({
      query: source.query,
      url: source.url,
      // Without source.url the query runs on Steward's own database, confined to steward_reader.
      stewardUrl: process.env.DATABASE_URL,
      timeoutMs: source.timeout,
      pipeline: spec.name,
      ...(signal ? { signal } : {}),
    });
  return Promise.resolve(generateSynthetic(source.generator, syntheticOptions(spec, source, params)));
}

/**
 * Ingest: reads the source, removes PII columns (they go no further than this function),
 * profiles the data and names the snapshot by its content hash.
 */
export const ingest: StageFn = async (request, context) => {
  const spec = PipelineSpec.parse(request.run.spec);
  const { source } = spec;
  context.progress(`reading ${source.type} source`);
  // A drift retrain with `retrain_source: feedback` trains on the labelled predictions the
  // worker loaded, not on the source.
  const feedback = request.artifacts?.feedback;
  if (feedback) context.progress(`using ${feedback.rowCount} labelled predictions`);
  const raw =
    feedback ?? (await failOnBadInput('ingest', () => readSource(spec, request.run.params, context.signal)));
  const present = new Set(raw.columns.map((c) => c.name));
  const pii = spec.features.pii.filter((name) => present.has(name));
  const table = dropColumns(raw, pii);
  const profile = profileTable(table);
  const described = feedback
    ? { type: 'feedback', rows: feedback.rowCount }
    : source.type === 'csv'
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
