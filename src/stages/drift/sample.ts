import { StewardError } from '../../errors.ts';

/**
 * Numeric samples for the drift statistics: the finite values, sorted ascending. Missing
 * values (NaN) and ±Infinity are left out, as Evidently replaces infinities by NaN and
 * drops them before testing; an infinite value has no place in a distance or a CDF.
 */
export function sortedFinite(values: Float64Array): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (Number.isFinite(value)) out[k++] = value;
  }
  return out.sort();
}

/** Options of the statistics that take raw samples. */
export type SampleOptions = {
  /**
   * The samples are already sorted ascending and hold only finite values (as `sortedFinite`
   * returns them), so they are used as they are instead of being copied and sorted.
   * @default false
   */
  sorted?: boolean;
};

/** Both samples sorted and finite, and neither empty (a statistic of nothing is refused). */
export function preparePair(
  test: string,
  reference: Float64Array,
  current: Float64Array,
  options: SampleOptions,
): [Float64Array, Float64Array] {
  const a = options.sorted ? reference : sortedFinite(reference);
  const b = options.sorted ? current : sortedFinite(current);
  if (a.length === 0 || b.length === 0) {
    throw new StewardError(
      'BAD_REQUEST',
      `${test} needs at least one finite value on each side (reference has ${a.length}, current has ${b.length})`,
    );
  }
  return [a, b];
}

/** Number of distinct values in the union of two sorted samples. */
export function distinctUnion(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let distinct = 0;
  while (i < a.length || j < b.length) {
    const value = j >= b.length || (i < a.length && (a[i] as number) <= (b[j] as number)) ? a[i] : b[j];
    while (i < a.length && a[i] === value) i++;
    while (j < b.length && b[j] === value) j++;
    distinct++;
  }
  return distinct;
}

/** How many values of the sorted sample are below `x` (numpy's `searchsorted(side='left')`). */
export function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
