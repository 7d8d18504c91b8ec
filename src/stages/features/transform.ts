import { StewardError } from '../../errors.ts';
import type { Table } from '../data/table.ts';
import type { Matrix } from '../ml/matrix.ts';
import type { Task } from '../ml/model.ts';
import { describeIssues } from '../spec.ts';
import { featureNamesOf } from './feature-names.ts';
import { FeaturesSpec, type FeaturesSpecInput } from './features-spec.ts';
import { fitCategorical } from './fit-categorical.ts';
import { fitNumeric } from './fit-numeric.ts';
import { type FeatureInput, readCategories, readNumeric, rowCountOf } from './input.ts';
import { dropped, selectColumns } from './select-columns.ts';
import { encodeTarget } from './target.ts';
import type { DroppedColumn, FeatureStep, FeatureTransform, TargetInfo } from './transform-schema.ts';

/**
 * The features stage's core: a transform FITTED once on training data, stored as plain
 * JSON next to the model, and APPLIED by the same code at training, evaluation and
 * serving time, so a model never sees features computed two different ways.
 */

export type FitOptions = {
  target: string;
  /** Classification stores the class labels in the transform; see `encodeTarget`. */
  task: Task;
  /** The `features` section of the spec, parsed or not; defaults per `FeaturesSpec`. */
  spec?: FeaturesSpecInput;
};

/** A dense row-major matrix (the numeric core's `Matrix`) with a name per column. */
export type FeatureMatrix = Matrix & { readonly featureNames: readonly string[] };

function parseSpec(spec: FeaturesSpecInput | undefined): FeaturesSpec {
  const parsed = FeaturesSpec.safeParse(spec ?? {});
  if (parsed.success) return parsed.data;
  throw new StewardError(
    'BAD_REQUEST',
    `features spec is not valid:\n  ${describeIssues(parsed.error).join('\n  ')}`,
  );
}

/**
 * Fits the transform on a training table. PII and dropped columns are decided from the
 * spec and column types before any value is read, and only their names are kept.
 */
export function fitTransform(table: Table, options: FitOptions): FeatureTransform {
  const spec = parseSpec(options.spec);
  const selection = selectColumns(table, options.target, spec);
  const inputs: FeatureStep[] = [];
  const constant = new Set<string>();
  for (const { name, kind } of selection.inputs) {
    const step =
      kind === 'categorical'
        ? fitCategorical(name, readCategories(table, name), spec.impute.categorical, spec.one_hot.top_k)
        : fitNumeric(
            name,
            kind,
            readNumeric(table, name, kind === 'boolean'),
            spec.impute.numeric,
            spec.scale,
          );
    if (step) inputs.push(step);
    else constant.add(name);
  }

  const droppedByName = new Map<string, DroppedColumn>(selection.dropped.map((d) => [d.name, d]));
  for (const name of constant) droppedByName.set(name, dropped(name, 'constant'));
  const droppedList = table.columns.flatMap((c) => droppedByName.get(c.name) ?? []);
  if (inputs.length === 0) {
    const reasons = droppedList.map((d) => `${d.name} (${d.reason})`).join(', ') || 'none';
    throw new StewardError('BAD_REQUEST', `no feature columns are left; left out: ${reasons}`);
  }

  const features = featureNamesOf(inputs);
  const clash = features.find((name, i) => features.indexOf(name) !== i);
  if (clash !== undefined) {
    throw new StewardError(
      'BAD_REQUEST',
      `two features would both be named "${clash}": rename the column whose name contains "="`,
    );
  }

  const encoded = encodeTarget(table, options.task, { column: options.target });
  const target: TargetInfo =
    encoded.task === 'classification'
      ? { name: options.target, task: 'classification', classes: encoded.classes }
      : { name: options.target, task: 'regression' };

  return {
    format: 'steward.features',
    version: 1,
    target,
    options: { impute: { ...spec.impute }, scale: spec.scale, top_k: spec.one_hot.top_k },
    inputs,
    features,
    dropped: droppedList,
  };
}

/**
 * Applies a fitted transform to a table or to JSON rows (one object per row; fields it
 * does not use are ignored). Missing values are imputed, unseen categories go to
 * `col=__other__`; an absent field or a non-number in a numeric column is an error naming
 * the column. Load a stored transform with `loadFeatureTransform` first.
 */
export function applyTransform(transform: FeatureTransform, input: FeatureInput): FeatureMatrix {
  const rows = rowCountOf(input);
  const cols = transform.features.length;
  const data = new Float64Array(rows * cols);
  let offset = 0;
  for (const step of transform.inputs) {
    if (step.kind !== 'categorical') {
      const values = readNumeric(input, step.name, step.kind === 'boolean');
      for (let i = 0; i < rows; i++) {
        const v = values[i] ?? Number.NaN;
        data[i * cols + offset] = ((Number.isNaN(v) ? step.impute : v) - step.center) / step.scale;
      }
      offset += 1;
      continue;
    }
    const values = readCategories(input, step.name);
    const index = new Map(step.categories.map((c, k) => [c, k]));
    const other = step.categories.length;
    const missing = step.impute === 'missing' ? other + 1 : 0;
    for (let i = 0; i < rows; i++) {
      const value = values[i] ?? null;
      const k = value === null ? missing : (index.get(value) ?? other);
      data[i * cols + offset + k] = 1;
    }
    offset += other + (step.impute === 'missing' ? 2 : 1);
  }
  if (offset !== cols) {
    throw new StewardError(
      'BAD_REQUEST',
      `feature transform is inconsistent: ${offset} columns built, ${cols} named`,
    );
  }
  return { rows, cols, data, featureNames: transform.features };
}
