import { preparePair, type SampleOptions } from './sample.ts';

/**
 * The smallest reference spread the normed distance divides by. Evidently's
 * `wasserstein_distance_norm` uses `max(np.std(reference), 0.001)`, so a constant reference
 * gives a finite (large, if the current data moved) normed distance instead of a division by
 * zero.
 */
export const WASSERSTEIN_STD_FLOOR = 0.001;

export type WassersteinResult = {
  /** `scipy.stats.wasserstein_distance(reference, current)`, in the column's units. */
  distance: number;
  /** `distance / max(referenceStd, 0.001)`: Evidently's scale-free drift score. */
  normed: number;
  /** Population standard deviation (ddof = 0, `np.std`) of the reference. */
  referenceStd: number;
};

/**
 * Wasserstein-1 (earth mover's) distance between two samples: the area between their
 * empirical CDFs, ∫ |F₁ − F₂|, summed over the gaps between consecutive values of the merged
 * sorted samples as SciPy's `_cdf_distance(1, …)` does. Also normed by the reference's
 * population standard deviation, as Evidently's default drift test for large numeric
 * columns (see `WASSERSTEIN_STD_FLOOR` for a constant reference).
 */
export function wasserstein(
  reference: Float64Array,
  current: Float64Array,
  options: SampleOptions = {},
): WassersteinResult {
  const [a, b] = preparePair('the Wasserstein distance', reference, current, options);
  const distance = wassersteinSorted(a, b);
  const referenceStd = populationStd(a);
  return { distance, normed: distance / Math.max(referenceStd, WASSERSTEIN_STD_FLOOR), referenceStd };
}

/** ∫ |F₁ − F₂| for two sorted, non-empty samples, in one merge sweep. */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let sum = 0;
  let value =
    j >= n2 || (i < n1 && (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
  for (;;) {
    while (i < n1 && a[i] === value) i++;
    while (j < n2 && b[j] === value) j++;
    if (i >= n1 && j >= n2) return sum;
    const next =
      j >= n2 || (i < n1 && (a[i] as number) <= (b[j] as number)) ? (a[i] as number) : (b[j] as number);
    sum += Math.abs(i / n1 - j / n2) * (next - value);
    value = next;
  }
}

function populationStd(values: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < values.length; i++) mean += values[i] as number;
  mean /= values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const d = (values[i] as number) - mean;
    squares += d * d;
  }
  return Math.sqrt(squares / values.length);
}
