import { type Column, createTable, type Table } from '../data/table.ts';
import { encodeTarget } from '../features/target.ts';
import { applyTransform, type FeatureMatrix } from '../features/transform.ts';
import { type FeatureTransform, loadFeatureTransform } from '../features/transform-schema.ts';
import { holdoutSplit, type Split } from '../ml/index.ts';
import type { PipelineSpec } from '../spec.ts';
import type { StageRequest } from '../stage.ts';

export function requireDataset(request: StageRequest): Table {
  const table = request.artifacts?.dataset;
  if (!table) throw new Error(`${request.stage} needs the run's dataset, which the worker did not load`);
  return table;
}

export function requireTransform(request: StageRequest): FeatureTransform {
  const features = request.inputs.features as { transform?: unknown } | undefined;
  return loadFeatureTransform(features?.transform);
}

/** The rows of `table` at `rows`, in that order. */
export function takeRows(table: Table, rows: Int32Array): Table {
  const columns = table.columns.map((c): Column => {
    if (c.type === 'numeric' || c.type === 'boolean') {
      return { ...c, values: Float64Array.from(rows, (i) => c.values[i] ?? Number.NaN) };
    }
    return { ...c, values: Array.from(rows, (i) => c.values[i] ?? null) };
  });
  return createTable(columns, rows.length);
}

/**
 * The holdout split, from the target column alone (stratified for classification), so the
 * features stage can fit its transform on training rows only and train/evaluate agree.
 */
export function splitRows(spec: PipelineSpec, table: Table): Split {
  const target = encodeTarget(table, spec.task, { column: spec.target });
  return holdoutSplit(table.rowCount, {
    testFraction: spec.validation.holdout,
    seed: spec.validation.seed,
    ...(spec.task === 'classification' ? { stratify: target.y } : {}),
  });
}

export type Prepared = { X: FeatureMatrix; y: Float64Array; split: Split; classes: string[] | undefined };

/**
 * The model's view of the data: features through the fitted transform, the encoded target,
 * and the holdout split. Train and evaluate both call this, so they agree on every row.
 */
export function prepare(spec: PipelineSpec, table: Table, transform: FeatureTransform): Prepared {
  const X = applyTransform(transform, table);
  const classes = transform.target.task === 'classification' ? transform.target.classes : undefined;
  const target = encodeTarget(table, spec.task, { column: spec.target, ...(classes ? { classes } : {}) });
  return { X, y: target.y, split: splitRows(spec, table), classes };
}

export const pick = (y: Float64Array, rows: Int32Array) => Float64Array.from(rows, (i) => y[i] ?? Number.NaN);
