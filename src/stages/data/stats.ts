/**
 * The few descriptive statistics the profile and the checks need, written to match numpy
 * so a reference profile can be checked by hand or in a notebook. NaN means missing and is
 * skipped everywhere.
 */

/** The non-missing values, sorted ascending. */
export function sortedPresent(values: Float64Array): Float64Array {
  let n = 0;
  for (const value of values) if (!Number.isNaN(value)) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (const value of values) if (!Number.isNaN(value)) out[k++] = value;
  return out.sort();
}

/** Arithmetic mean of a sorted or unsorted array without NaN; NaN when empty. */
export function mean(values: Float64Array): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/**
 * Sample standard deviation (ddof = 1, like pandas' `std`), two-pass for accuracy; NaN
 * with fewer than two values.
 */
export function sampleStd(values: Float64Array): number {
  const n = values.length;
  if (n < 2) return Number.NaN;
  const m = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - m) * (value - m);
  return Math.sqrt(squares / (n - 1));
}

/**
 * The `p` quantile (0..1) of ascending `sorted` values with linear interpolation between
 * the two nearest ranks: numpy's default `method='linear'`. NaN when empty.
 */
export function quantileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  const t = h - lo;
  // numpy's `_lerp`: interpolate from the nearer end, so the result is bit-identical to it.
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

/**
 * Counts values into bins split at ascending `cuts`: bin 0 holds values below `cuts[0]`,
 * bin i values in [cuts[i-1], cuts[i]), and the last bin everything from the last cut up.
 * The outer bins are open so later data outside the reference range still lands in a bin,
 * which drift measures need. Missing values are not counted.
 */
export function binCounts(values: Float64Array, cuts: readonly number[]): number[] {
  const counts = new Array<number>(cuts.length + 1).fill(0);
  for (const value of values) {
    if (Number.isNaN(value)) continue;
    // Number of cuts <= value, by binary search.
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cuts[mid] ?? Number.POSITIVE_INFINITY) <= value) lo = mid + 1;
      else hi = mid;
    }
    counts[lo] = (counts[lo] ?? 0) + 1;
  }
  return counts;
}
