import { contentHash } from './hash.ts';
import { binCounts, mean, quantileSorted, sampleStd, sortedPresent } from './stats.ts';
import { type Column, missingCount, type Table } from './table.ts';

/**
 * Per-column statistics of a training set, kept as the reference that monitoring compares
 * live data against (drift) and that people read to sanity-check a dataset. Everything is
 * plain JSON: statistics that do not exist (the mean of no values, the spread of one) are
 * `null`, never NaN.
 */
export const QUANTILES = {
  p01: 0.01,
  p05: 0.05,
  p25: 0.25,
  p50: 0.5,
  p75: 0.75,
  p95: 0.95,
  p99: 0.99,
} as const;
export type Quantiles = Record<keyof typeof QUANTILES, number>;

/** How many histogram bins a numeric profile aims for (fewer when values tie). */
export const HISTOGRAM_BINS = 10;
/** How many categories a profile lists by name; the rest are summed into `OTHER`. */
export const TOP_CATEGORIES = 50;
export const OTHER = '__other__';
/**
 * How many characters of a category a profile keeps. A profile is a summary that people
 * read and monitoring compares: a longer value is cut and ends in `…`, so a dataset with
 * odd, huge categories still has a small profile.
 */
export const PROFILE_VALUE_CHARS = 200;

/**
 * Counts between `cuts` as `binCounts` defines them: the cuts are the unique interior
 * deciles, so continuous data gets ten bins of about 10% each, and the outer bins are open
 * so data outside the reference range still falls in one. Tied deciles merge into one cut,
 * so a column with few distinct values gets fewer (and possibly empty) bins.
 */
export type Histogram = { cuts: number[]; counts: number[] };

type Base = { name: string; count: number; missing: number; missingShare: number };

export type NumericProfile = Base & {
  type: 'numeric';
  mean: number | null;
  /** Sample standard deviation (ddof = 1). */
  std: number | null;
  min: number | null;
  max: number | null;
  quantiles: Quantiles | null;
  histogram: Histogram | null;
};

/** `share` is of the non-missing values; `missingShare` covers the rest. */
export type CategoryFrequency = { value: string; count: number; share: number };

export type CategoricalProfile = Base & {
  type: 'categorical' | 'boolean';
  distinct: number;
  /** Most frequent first (ties by value), at most `TOP_CATEGORIES`, then `OTHER` if needed. */
  frequencies: CategoryFrequency[];
};

/** Text columns (ids, emails, free text) get no value list: it would copy the data, PII included. */
export type TextProfile = Base & { type: 'text'; distinct: number };

export type ColumnProfile = NumericProfile | CategoricalProfile | TextProfile;

export type DatasetProfile = {
  rows: number;
  columns: number;
  /** `contentHash` of the table: equal hashes mean equal data. */
  hash: string;
  profiles: ColumnProfile[];
};

export function profileTable(table: Table): DatasetProfile {
  return {
    rows: table.rowCount,
    columns: table.columns.length,
    hash: contentHash(table),
    profiles: table.columns.map(profileColumn),
  };
}

export function profileColumn(column: Column): ColumnProfile {
  const rows = column.values.length;
  const missing = missingCount(column);
  const base: Base = {
    name: column.name,
    count: rows - missing,
    missing,
    missingShare: rows === 0 ? 0 : missing / rows,
  };
  switch (column.type) {
    case 'numeric':
      return { ...base, type: 'numeric', ...numericStats(column.values) };
    case 'boolean': {
      const counts = new Map([
        ['false', 0],
        ['true', 0],
      ]);
      for (const value of column.values) {
        if (Number.isNaN(value)) continue;
        const key = value === 1 ? 'true' : 'false';
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return { ...base, type: 'boolean', ...categoryStats(counts, base.count) };
    }
    case 'categorical':
      return { ...base, type: 'categorical', ...categoryStats(countValues(column.values), base.count) };
    case 'text':
      return { ...base, type: 'text', distinct: countValues(column.values).size };
  }
}

function numericStats(values: Float64Array): Omit<NumericProfile, keyof Base | 'type'> {
  const sorted = sortedPresent(values);
  if (sorted.length === 0) {
    return { mean: null, std: null, min: null, max: null, quantiles: null, histogram: null };
  }
  const quantiles = Object.fromEntries(
    Object.entries(QUANTILES).map(([key, p]) => [key, quantileSorted(sorted, p)]),
  ) as Quantiles;
  const cuts: number[] = [];
  for (let k = 1; k < HISTOGRAM_BINS; k++) {
    const cut = quantileSorted(sorted, k / HISTOGRAM_BINS);
    if (cuts.length === 0 || cut > (cuts.at(-1) ?? cut)) cuts.push(cut);
  }
  const std = sampleStd(sorted);
  return {
    mean: mean(sorted),
    std: Number.isNaN(std) ? null : std,
    min: sorted[0] ?? null,
    max: sorted.at(-1) ?? null,
    quantiles,
    histogram: { cuts, counts: binCounts(sorted, cuts) },
  };
}

function countValues(values: readonly (string | null)[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) if (value !== null) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

function categoryStats(counts: Map<string, number>, present: number) {
  // Plain code-unit comparison for ties: locale-aware ordering could differ between hosts.
  const ordered = [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
  const share = (count: number) => (present === 0 ? 0 : count / present);
  const frequencies: CategoryFrequency[] = ordered
    .slice(0, TOP_CATEGORIES)
    .map(([value, count]) => ({ value: shortValue(value), count, share: share(count) }));
  const rest = ordered.slice(TOP_CATEGORIES).reduce((sum, [, count]) => sum + count, 0);
  if (ordered.length > TOP_CATEGORIES) frequencies.push({ value: OTHER, count: rest, share: share(rest) });
  return { distinct: counts.size, frequencies };
}

/** `value` cut to `PROFILE_VALUE_CHARS`, never between the two halves of a surrogate pair. */
export function shortValue(value: string): string {
  if (value.length <= PROFILE_VALUE_CHARS) return value;
  const code = value.charCodeAt(PROFILE_VALUE_CHARS - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? PROFILE_VALUE_CHARS - 1 : PROFILE_VALUE_CHARS;
  return `${value.slice(0, end)}…`;
}
