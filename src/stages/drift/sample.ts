import { StewardError } from '../../errors.ts';

/**
 * Numeric samples for the drift statistics: the finite values, sorted ascending. Missing
 * values (NaN) and ±Infinity are left out, as Evidently replaces infinities by NaN and
 * drops them before testing; an infinite value has no place in a distance or a CDF.
 *
 * Sorting is most of the cost of a drift report, and V8's `Float64Array#sort` takes about
 * 175 ns a value on a million of them, so large samples go through a radix sort instead
 * (about 3× faster; see `radixSortFinite`). The result is the same either way, down to -0
 * sorting just before +0.
 */
export function sortedFinite(values: Float64Array): Float64Array {
  if (values.length >= RADIX_MIN) return radixSortFinite(values);
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

/** Below this many values the built-in sort wins: the radix sort's 4 × 65,536 prefix sums cost as much. */
export const RADIX_MIN = 20_000;

const DIGITS = 4;
const BUCKETS = 1 << 16;

/**
 * The finite values of `values`, sorted, by a least-significant-digit radix sort on their
 * IEEE-754 bit patterns in four 16-bit digits. Each double becomes an unsigned 64-bit key
 * (two 32-bit words) that orders like the numbers: negative ones have all bits flipped,
 * positive ones the sign bit set. The keys are sorted as integers and mapped back at the
 * end, so no bit pattern ever passes through a float register (where a NaN-shaped one
 * could be altered). One pass builds the keys and counts every digit at once; a digit
 * that is the same for every value (the low bits of integer-valued data, say) costs no
 * pass. `values` is not modified.
 */
export function radixSortFinite(values: Float64Array): Float64Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  // Sized for every value; only the first n (the finite ones) are used.
  let lo = new Uint32Array(values.length);
  let hi = new Uint32Array(values.length);
  const counts = new Int32Array(DIGITS * BUCKETS);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    let h = words[2 * i + 1] as number;
    let l = words[2 * i] as number;
    if (h >>> 31 === 1) {
      h = ~h >>> 0;
      l = ~l >>> 0;
    } else {
      h = (h ^ 0x80000000) >>> 0;
    }
    lo[n] = l;
    hi[n] = h;
    n++;
    bump(counts, l & 0xffff);
    bump(counts, BUCKETS + (l >>> 16));
    bump(counts, 2 * BUCKETS + (h & 0xffff));
    bump(counts, 3 * BUCKETS + (h >>> 16));
  }

  let lo2 = new Uint32Array(values.length);
  let hi2 = new Uint32Array(values.length);
  const next = new Int32Array(BUCKETS);
  for (let digit = 0; digit < DIGITS; digit++) {
    const base = digit * BUCKETS;
    let sum = 0;
    let single = false;
    for (let d = 0; d < BUCKETS; d++) {
      const count = counts[base + d] as number;
      if (count === n) single = true;
      next[d] = sum;
      sum += count;
    }
    if (single) continue;
    const shift = (digit & 1) * 16;
    const byLow = digit < 2;
    for (let i = 0; i < n; i++) {
      const l = lo[i] as number;
      const h = hi[i] as number;
      const d = ((byLow ? l : h) >>> shift) & 0xffff;
      const at = next[d] as number;
      next[d] = at + 1;
      lo2[at] = l;
      hi2[at] = h;
    }
    [lo, lo2] = [lo2, lo];
    [hi, hi2] = [hi2, hi];
  }

  const out = new Float64Array(n);
  const outWords = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const h = hi[i] as number;
    const l = lo[i] as number;
    const negative = h >>> 31 === 0;
    outWords[2 * i] = negative ? ~l : l;
    outWords[2 * i + 1] = negative ? ~h : h ^ 0x80000000;
  }
  return out;
}

function bump(counts: Int32Array, index: number): void {
  counts[index] = (counts[index] as number) + 1;
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
