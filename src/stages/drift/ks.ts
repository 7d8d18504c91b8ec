import { kolmogorovSf } from './kolmogorov.ts';
import { exactKsPValue } from './ks-exact.ts';
import { preparePair, type SampleOptions } from './sample.ts';

export type KsResult = {
  /** D: the largest distance between the two empirical CDFs. */
  statistic: number;
  /** Two-sided p-value. */
  pValue: number;
  /** How the p-value was computed: SciPy's 'auto' picks exact up to 10,000 values a side. */
  method: 'exact' | 'asymp';
};

/** Above this many values on either side 'auto' goes asymptotic (SciPy's MAX_AUTO_N). */
const MAX_EXACT_N = 10_000;

/**
 * The two-sample Kolmogorov–Smirnov test, two-sided, exactly as
 * `scipy.stats.ks_2samp(reference, current, method='auto')`:
 *
 * - D is evaluated at every value of either sample with both CDFs counting values ≤ it
 *   (SciPy's `searchsorted(side='right')` on the concatenated data), so ties are handled
 *   as SciPy handles them; here in one merge sweep over the two sorted samples.
 * - With at most 10,000 values on each side the p-value is exact (D is first rounded to a
 *   multiple of 1/lcm(n₁, n₂), as SciPy does); otherwise, or if the exact computation leaves
 *   [0, 1], it is `kstwo.sf(D, round(n₁n₂ / (n₁ + n₂)))`.
 *
 * Missing and infinite values are dropped; an empty side is an error.
 */
export function ks2samp(
  reference: Float64Array,
  current: Float64Array,
  options: SampleOptions = {},
): KsResult {
  const [a, b] = preparePair('the KS test', reference, current, options);
  return ksFromStatistic(a.length, b.length, ksSweep(a, b).statistic);
}

/** The p-value for D between samples of n₁ and n₂ values, by SciPy's 'auto' rule (see `ks2samp`). */
export function ksFromStatistic(n1: number, n2: number, statistic: number): KsResult {
  let d = statistic;
  if (Math.max(n1, n2) <= MAX_EXACT_N) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = Math.round(d * lcm);
    d = h / lcm;
    const p = exactKsPValue(n1, n2, g, h);
    if (p !== undefined) return { statistic: d, pValue: p, method: 'exact' };
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  // kstwo needs n >= 1; en < 1 only for 1 vs 1 value, which the exact branch always takes.
  const p = kolmogorovSf(Math.max(1, roundHalfEven(en)), d);
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)), method: 'asymp' };
}

/**
 * D for two sorted, non-empty samples: the largest of max(F₁ − F₂) and max(F₂ − F₁) over
 * the union's values, with both CDFs counting values ≤ each value. SciPy also records which
 * side won, which D itself does not depend on. The same sweep counts the union's distinct
 * values, which the drift report needs to pick its test.
 */
export function ksSweep(a: Float64Array, b: Float64Array): { statistic: number; distinct: number } {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let distinct = 0;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  while (i < n1 || j < n2) {
    const value = j >= n2 || (i < n1 && (a[i] as number) <= (b[j] as number)) ? a[i] : b[j];
    while (i < n1 && a[i] === value) i++;
    while (j < n2 && b[j] === value) j++;
    distinct++;
    const diff = i / n1 - j / n2;
    if (diff > max) max = diff;
    if (diff < min) min = diff;
  }
  const minS = Math.min(1, Math.max(0, -min));
  return { statistic: Math.max(minS, max), distinct };
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return x;
}

/** numpy's `round`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
