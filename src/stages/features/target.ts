import { StewardError } from '../../errors.ts';
import type { Table } from '../data/table.ts';
import type { Task } from '../ml/model.ts';
import { cellsOf } from './input.ts';
import { toCategory, toNumber } from './values.ts';

/**
 * Target encoding. The numeric core takes labels as numbers, so classification labels
 * (strings, numbers or booleans) become class indices 0..K-1 into `classes`; a model's own
 * `classes` are then [0, 1, …, K-1] and `classes[k]` here is the label a person reads.
 */
export type TargetEncoding =
  | { task: 'classification'; classes: string[]; y: Float64Array }
  | { task: 'regression'; y: Float64Array };

/** A table (with `options.column`), a numeric column's values, or plain values. */
export type TargetSource = Table | Float64Array | readonly unknown[];

export type TargetOptions = {
  /** The target column, when `source` is a table. */
  column?: string;
  /**
   * Classes from a fitted transform (`transform.target.classes`). Given, labels are coded
   * against them and an unseen label is an error; omitted, they are found from the data.
   */
  classes?: readonly string[];
};

const isTable = (source: TargetSource): source is Table =>
  !(source instanceof Float64Array) && !Array.isArray(source);

function valuesOf(
  source: TargetSource,
  column: string | undefined,
): { name: string; values: ArrayLike<unknown> } {
  if (!isTable(source)) return { name: column ?? 'target', values: source };
  if (column === undefined)
    throw new StewardError('BAD_REQUEST', 'encodeTarget needs the target column name');
  return { name: column, values: cellsOf(source, column) };
}

function missingLabel(name: string, row: number): never {
  throw new StewardError(
    'BAD_REQUEST',
    `target "${name}" is missing at row ${row}: drop rows without a label before training`,
  );
}

/**
 * Sorted class labels. Labels that all came from numbers sort by value (2 before 10), as
 * scikit-learn's `classes_` would; otherwise, booleans included ("false" < "true"), by
 * plain code-unit order, independent of locale.
 */
function sortClasses(labels: Set<string>, numeric: boolean): string[] {
  const classes = [...labels];
  return numeric
    ? classes.sort((a, b) => Number(a) - Number(b))
    : classes.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Encodes a target for `task`; see `TargetEncoding`. Missing labels are an error. */
export function encodeTarget(source: TargetSource, task: Task, options: TargetOptions = {}): TargetEncoding {
  const { name, values } = valuesOf(source, options.column);
  const n = values.length;
  const y = new Float64Array(n);
  if (task === 'regression') {
    for (let i = 0; i < n; i++) {
      const v = toNumber(values[i], name, i, true);
      if (Number.isNaN(v)) missingLabel(name, i);
      y[i] = v;
    }
    return { task, y };
  }

  const labels: string[] = new Array(n);
  let numeric = true;
  for (let i = 0; i < n; i++) {
    const raw = values[i];
    const label = toCategory(raw, name, i);
    if (label === null) missingLabel(name, i);
    if (typeof raw !== 'number') numeric = false;
    labels[i] = label;
  }
  const classes = options.classes ? [...options.classes] : sortClasses(new Set(labels), numeric);
  const index = new Map(classes.map((c, k) => [c, k]));
  for (let i = 0; i < n; i++) {
    const code = index.get(labels[i] ?? '');
    if (code === undefined) {
      throw new StewardError(
        'BAD_REQUEST',
        `target "${name}" has the label ${JSON.stringify(labels[i])} at row ${i}, which the model was not trained on (classes: ${classes.join(', ')})`,
      );
    }
    y[i] = code;
  }
  return { task, classes, y };
}
