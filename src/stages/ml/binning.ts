import { StewardError } from '../../errors.ts';
import type { Matrix } from './matrix.ts';
import type { Rng } from './random.ts';

/**
 * Quantile binning for the tree learners. Each feature is cut at up to maxBins-1
 * thresholds; a value's bin is the index of the first threshold it does not exceed. Trees
 * then search splits over at most 255 bins per feature instead of every distinct value,
 * which is what makes histogram boosting and the forest fast on 100k rows, and one byte
 * per value keeps the binned copy small.
 *
 * Split thresholds are these same cut points, so a tree stores real-valued thresholds and
 * predicts on raw inputs with `x <= threshold`, agreeing exactly with the bins it was
 * trained on (a value equal to a threshold goes left in both).
 */
export type Bins = {
  /** Per feature, strictly increasing cut points; bin(x) = #{t : t < x}. */
  thresholds: Float64Array[];
  /** Per feature, the number of bins in use (thresholds + 1). */
  counts: Int32Array;
};

/** Rows sampled for computing quantiles; more adds time but barely moves the cut points. */
const QUANTILE_SAMPLE = 200_000;

/**
 * Finds cut points per feature. A feature with at most maxBins distinct values is cut
 * midway between consecutive values (so every value has its own bin); otherwise at
 * evenly spaced quantiles, as scikit-learn's HistGradientBoosting does.
 */
export function fitBins(X: Matrix, maxBins: number, rng: Rng): Bins {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 256) {
    throw new StewardError('BAD_REQUEST', `maxBins must be an integer in 2..256, got ${maxBins}`);
  }
  const { rows: n, cols: d, data } = X;
  let sample: Int32Array | null = null;
  if (n > QUANTILE_SAMPLE) {
    sample = rng.permutation(n).subarray(0, QUANTILE_SAMPLE);
  }
  const m = sample ? sample.length : n;
  const values = new Float64Array(m);
  const thresholds: Float64Array[] = [];
  const counts = new Int32Array(d);
  for (let f = 0; f < d; f++) {
    for (let k = 0; k < m; k++) values[k] = data[(sample ? (sample[k] ?? 0) : k) * d + f] ?? 0;
    values.sort();
    const distinct: number[] = [];
    for (let k = 0; k < m; k++) {
      const v = values[k] ?? 0;
      if (k === 0 || v !== values[k - 1]) distinct.push(v);
    }
    const cuts: number[] = [];
    if (distinct.length <= maxBins) {
      for (let k = 1; k < distinct.length; k++) cuts.push(((distinct[k - 1] ?? 0) + (distinct[k] ?? 0)) / 2);
    } else {
      for (let q = 1; q < maxBins; q++) {
        const position = (q / maxBins) * (m - 1);
        const lo = values[Math.floor(position)] ?? 0;
        const hi = values[Math.ceil(position)] ?? 0;
        const cut = (lo + hi) / 2;
        if (cuts.length === 0 || cut > (cuts[cuts.length - 1] ?? 0)) cuts.push(cut);
      }
    }
    thresholds.push(Float64Array.from(cuts));
    counts[f] = cuts.length + 1;
  }
  return { thresholds, counts };
}

/** The bin of `x` given a feature's cut points (binary search). */
export function binOf(cuts: Float64Array, x: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cuts[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Bins every value, column-major (feature f's bins are `[f*n, (f+1)*n)`), one byte each. */
export function binMatrix(X: Matrix, bins: Bins): Uint8Array {
  const { rows: n, cols: d, data } = X;
  const out = new Uint8Array(n * d);
  for (let f = 0; f < d; f++) {
    const cuts = bins.thresholds[f] ?? new Float64Array(0);
    const base = f * n;
    for (let i = 0; i < n; i++) out[base + i] = binOf(cuts, data[i * d + f] ?? 0);
  }
  return out;
}

/** The binned training set, laid out once and reused by every tree. */
export type BinnedData = {
  rows: number;
  cols: number;
  /** Column-major bins, see `binMatrix`. */
  bins: Uint8Array;
  cuts: Bins;
  /** Start of each feature's bins within a histogram (cumulative bin counts). */
  offsets: Int32Array;
  /** Total bins over all features. */
  totalBins: number;
};

/** Bins X with `cuts` and lays out the histogram offsets. */
export function binnedData(X: Matrix, cuts: Bins): BinnedData {
  const { rows, cols } = X;
  const bins = binMatrix(X, cuts);
  const offsets = new Int32Array(cols + 1);
  for (let f = 0; f < cols; f++) offsets[f + 1] = (offsets[f] ?? 0) + (cuts.counts[f] ?? 1);
  return { rows, cols, bins, cuts, offsets, totalBins: offsets[cols] ?? 0 };
}
