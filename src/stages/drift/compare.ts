import { StewardError } from '../../errors.ts';
import { type Column, findColumn, isMissingAt, type Table } from '../data/table.ts';
import { countBooleans, countStrings } from './categories.ts';
import { type ColumnSettings, categoricalColumnDrift, numericColumnDrift } from './column-drift.ts';
import { PSI_BINS } from './psi.ts';
import {
  type ColumnDrift,
  DRIFT_TESTS,
  type DriftOptions,
  type DriftReport,
  type DriftTest,
} from './types.ts';

export const DEFAULT_THRESHOLD = 0.1;
export const DEFAULT_P_VALUE = 0.05;
export const DEFAULT_SHARE = 0.5;
export const DEFAULT_MIN_ROWS = 1;

/** Tests that only make sense on numbers. */
const NUMERIC_ONLY: ReadonlySet<DriftTest> = new Set(['ks', 'wasserstein']);

/**
 * Compares the current data (a window of live predictions' features) with the reference
 * (the training data), column by column, and decides dataset drift as Evidently does: each
 * column gets the test Evidently's rules pick (`chooseTest`) unless `options.tests` names
 * one, and the dataset drifts when the share of drifted columns reaches `options.share`.
 * Columns without enough data are reported as `not_enough_data` and are not counted as
 * monitored. Pure: no I/O, and the tables are not modified.
 *
 * Wrong options (an unknown column or test, a numeric-only test on a categorical column,
 * thresholds out of range) and columns whose type differs between the two tables are
 * `BAD_REQUEST` errors that say what to change.
 */
export function compareTables(reference: Table, current: Table, options: DriftOptions = {}): DriftReport {
  const settings = resolveSettings(options);
  const pairs = selectColumns(reference, current, options.columns);
  const tests = checkTests(options.tests ?? {}, pairs);
  const columns = pairs.map(([ref, cur]) =>
    compareColumn(ref, cur, { ...settings, test: tests.get(ref.name) }),
  );
  const monitored = columns.filter((column) => column.status !== 'not_enough_data').length;
  const drifted = columns.filter((column) => column.drifted).length;
  const share = monitored === 0 ? 0 : drifted / monitored;
  const shareThreshold = options.share ?? DEFAULT_SHARE;
  return {
    referenceRows: reference.rowCount,
    currentRows: current.rowCount,
    columns,
    monitored,
    drifted,
    share,
    shareThreshold,
    datasetDrift: monitored > 0 && share >= shareThreshold,
  };
}

function resolveSettings(options: DriftOptions): Omit<ColumnSettings, 'test'> {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  const pValue = options.pValue ?? DEFAULT_P_VALUE;
  const share = options.share ?? DEFAULT_SHARE;
  const psiBins = options.psiBins ?? PSI_BINS;
  const minRows = options.minRows ?? DEFAULT_MIN_ROWS;
  if (!(Number.isFinite(threshold) && threshold > 0))
    bad(`threshold must be a positive number, got ${threshold}`);
  if (!(pValue > 0 && pValue < 1)) bad(`pValue must be between 0 and 1, got ${pValue}`);
  if (!(share > 0 && share <= 1)) bad(`share must be more than 0 and at most 1, got ${share}`);
  if (!(Number.isInteger(psiBins) && psiBins >= 2))
    bad(`psiBins must be a whole number of at least 2, got ${psiBins}`);
  if (!(Number.isInteger(minRows) && minRows >= 1))
    bad(`minRows must be a whole number of at least 1, got ${minRows}`);
  return { threshold, pValue, psiBins, minRows };
}

type Pair = [Column, Column];

function selectColumns(reference: Table, current: Table, names: readonly string[] | undefined): Pair[] {
  if (names === undefined) {
    const pairs: Pair[] = [];
    for (const ref of reference.columns) {
      const cur = findColumn(current, ref.name);
      if (cur && ref.type !== 'text' && cur.type !== 'text') pairs.push([ref, cur]);
    }
    return pairs;
  }
  if (new Set(names).size !== names.length) bad('columns lists a column more than once');
  return names.map((name) => {
    const ref = findColumn(reference, name);
    const cur = findColumn(current, name);
    if (!ref || !cur) {
      const where = !ref && !cur ? 'either table' : !ref ? 'the reference' : 'the current data';
      bad(`columns names "${name}", which is not in ${where}`);
    }
    if (ref.type === 'text' || cur.type === 'text') {
      bad(
        `column "${name}" is text (free text or identifiers), which drift does not compare: leave it out of columns`,
      );
    }
    return [ref, cur];
  });
}

function checkTests(tests: Record<string, DriftTest>, pairs: Pair[]): Map<string, DriftTest> {
  const kinds = new Map(pairs.map(([ref, cur]) => [ref.name, kindOf(ref, cur)]));
  const out = new Map<string, DriftTest>();
  for (const [name, test] of Object.entries(tests)) {
    if (!DRIFT_TESTS.includes(test))
      bad(`tests.${name}: unknown test "${test}" (tests: ${DRIFT_TESTS.join(', ')})`);
    const kind = kinds.get(name);
    if (!kind)
      bad(
        `tests names "${name}", which is not one of the compared columns (${[...kinds.keys()].join(', ')})`,
      );
    if (NUMERIC_ONLY.has(test) && kind !== 'numeric') {
      bad(
        `tests.${name}: ${test} needs a numeric column, and "${name}" is ${kind}: use chisquare, z, psi or jensenshannon`,
      );
    }
    out.set(name, test);
  }
  return out;
}

/**
 * The type both sides are compared as. A side with no values at all takes the other's type:
 * an all-missing column reads as numeric from CSV whatever it held.
 */
function kindOf(ref: Column, cur: Column): Column['type'] {
  if (ref.type === cur.type || !hasValues(cur)) return ref.type;
  if (!hasValues(ref)) return cur.type;
  return bad(
    `column "${ref.name}" is ${ref.type} in the reference but ${cur.type} in the current data: ` +
      'compare data with the training schema (same column types)',
  );
}

/** Whether the column has a non-missing value; stops at the first. */
function hasValues(column: Column): boolean {
  for (let i = 0; i < column.values.length; i++) if (!isMissingAt(column, i)) return true;
  return false;
}

function compareColumn(ref: Column, cur: Column, settings: ColumnSettings): ColumnDrift {
  const kind = kindOf(ref, cur);
  const name = ref.name;
  switch (kind) {
    case 'numeric':
      return numericColumnDrift(name, numbers(ref), numbers(cur), settings);
    case 'boolean':
      return categoricalColumnDrift(name, countBooleans(numbers(ref), numbers(cur)), settings);
    default:
      return categoricalColumnDrift(name, countStrings(strings(ref), strings(cur)), settings);
  }
}

/** The values of a numeric or boolean column; an empty column of another type as all missing. */
function numbers(column: Column): Float64Array {
  if (column.type === 'numeric' || column.type === 'boolean') return column.values;
  return new Float64Array(column.values.length).fill(Number.NaN);
}

function strings(column: Column): readonly (string | null)[] {
  if (column.type === 'categorical' || column.type === 'text') return column.values;
  return new Array<string | null>(column.values.length).fill(null);
}

function bad(message: string): never {
  throw new StewardError('BAD_REQUEST', `drift: ${message}`);
}
