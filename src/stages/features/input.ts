import { StewardError } from '../../errors.ts';
import type { Table } from '../data/table.ts';
import { toCategory, toNumber } from './values.ts';

/**
 * What a transform is applied to: a table (training, evaluation) or the plain JSON objects
 * a serving request carries, one per row. Fields the transform does not use are ignored,
 * so a client may send the whole record, target and PII included.
 */
export type FeatureRow = Readonly<Record<string, unknown>>;
export type FeatureInput = Table | readonly FeatureRow[];

function isRows(input: FeatureInput): input is readonly FeatureRow[] {
  return Array.isArray(input);
}

export function rowCountOf(input: FeatureInput): number {
  return isRows(input) ? input.length : input.rowCount;
}

/**
 * The cells of a table's column, as `toNumber` / `toCategory` should see them. Boolean
 * columns (stored as 1 / 0 / NaN) come back as true / false / null, so a training boolean
 * and the JSON boolean a serving client sends are the same value on both paths: the
 * number 1 as a numeric feature, the category "true" as a categorical one or a label.
 * A missing column is an error that names it.
 */
export function cellsOf(table: Table, name: string): ArrayLike<unknown> {
  const column = table.columns.find((c) => c.name === name);
  if (!column) {
    throw new StewardError('BAD_REQUEST', `the data has no column "${name}", which the features need`);
  }
  if (column.values.length !== table.rowCount) {
    throw new StewardError(
      'BAD_REQUEST',
      `column "${name}" has ${column.values.length} values but the table has ${table.rowCount} rows`,
    );
  }
  if (column.type !== 'boolean') return column.values;
  return Array.from(column.values, (v) => (Number.isNaN(v) ? null : v === 1));
}

/**
 * The cell of row `i` in object rows. An absent field (or `undefined`) is an error, not a
 * missing value: a client that forgot a field should hear about it, while one that knows a
 * value is missing sends `null` and gets it imputed.
 */
function fieldOf(rows: readonly FeatureRow[], i: number, name: string): unknown {
  const row = rows[i];
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    throw new StewardError('BAD_REQUEST', `row ${i} is not an object of column values`);
  }
  const value = row[name];
  if (value === undefined) {
    throw new StewardError(
      'BAD_REQUEST',
      `row ${i} has no field "${name}", which the features need; send null if the value is missing`,
    );
  }
  return value;
}

/** A column read as numbers, NaN for missing; `booleans` as in `toNumber`. */
export function readNumeric(input: FeatureInput, name: string, booleans = false): Float64Array {
  const n = rowCountOf(input);
  const out = new Float64Array(n);
  if (isRows(input)) {
    for (let i = 0; i < n; i++) out[i] = toNumber(fieldOf(input, i, name), name, i, booleans);
    return out;
  }
  const values = cellsOf(input, name);
  for (let i = 0; i < n; i++) out[i] = toNumber(values[i], name, i, booleans);
  return out;
}

/** A column read as categories, null for missing. */
export function readCategories(input: FeatureInput, name: string): (string | null)[] {
  const n = rowCountOf(input);
  const out: (string | null)[] = new Array(n);
  if (isRows(input)) {
    for (let i = 0; i < n; i++) out[i] = toCategory(fieldOf(input, i, name), name, i);
    return out;
  }
  const values = cellsOf(input, name);
  for (let i = 0; i < n; i++) out[i] = toCategory(values[i], name, i);
  return out;
}
