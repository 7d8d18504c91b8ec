import { StewardError } from '../../errors.ts';
import { quantileSorted } from '../data/stats.ts';
import { lowerBound, preparePair, type SampleOptions } from './sample.ts';

/**
 * The share an empty bin is given before taking logarithms: PSI divides by and takes the log
 * of each share, so a bin one side never fills would make it infinite. 1e-4 is Evidently's
 * classic floor (`np.where(x == 0, 0.0001, x)`); the floored shares are not renormalised.
 */
export const PSI_FLOOR = 1e-4;

/** @default 10 bins, the deciles of the reference. */
export const PSI_BINS = 10;

export type PsiOptions = SampleOptions & {
  /** How many quantile bins of the reference to aim for (fewer when quantiles tie). @default 10 */
  bins?: number;
};

export type PsiResult = {
  /** Σ (current − reference) · ln(current / reference) over the bins, with `PSI_FLOOR` for empty ones. */
  value: number;
  /** The bin edges: bin 0 is below `cuts[0]`, bin i is [cuts[i−1], cuts[i]), the last is from the last cut up. */
  cuts: number[];
  /** Share of each side's values per bin, before the floor. */
  reference: number[];
  current: number[];
};

/**
 * Population stability index on quantile bins of the reference. The cuts are the reference's
 * unique interior quantiles at 1/bins, 2/bins, … (numpy's linear method), so continuous data
 * gets `bins` bins of about equal reference share and tied quantiles merge. The outer bins
 * are open: current values below or above the whole reference still fall in a bin, which is
 * exactly the drift PSI should see.
 *
 * NumPy equivalent: `cuts = unique(quantile(ref, arange(1, bins) / bins))`, counts by
 * `bincount(searchsorted(cuts, x, 'right'))`, shares floored with `where(s == 0, 1e-4, s)`,
 * then `sum((cur - ref) * log(cur / ref))`.
 */
export function psi(reference: Float64Array, current: Float64Array, options: PsiOptions = {}): PsiResult {
  const [a, b] = preparePair('PSI', reference, current, options);
  const cuts = quantileCuts(a, options.bins ?? PSI_BINS);
  const referenceCounts = sortedBinCounts(a, cuts);
  const currentCounts = sortedBinCounts(b, cuts);
  return {
    value: psiFromCounts(referenceCounts, currentCounts),
    cuts,
    reference: shares(referenceCounts),
    current: shares(currentCounts),
  };
}

/** The unique interior `bins`-quantiles of a sorted, non-empty sample. */
export function quantileCuts(sorted: Float64Array, bins: number): number[] {
  if (!Number.isInteger(bins) || bins < 2) {
    throw new StewardError('BAD_REQUEST', `PSI bins must be a whole number of at least 2, got ${bins}`);
  }
  const cuts: number[] = [];
  for (let k = 1; k < bins; k++) {
    const cut = quantileSorted(sorted, k / bins);
    if (cuts.length === 0 || cut > (cuts.at(-1) as number)) cuts.push(cut);
  }
  return cuts;
}

/**
 * Counts of a sorted sample per bin, with the bins of `binCounts` in `data/stats.ts`
 * (bin i holds the values with exactly i cuts ≤ them), by one binary search per cut.
 */
export function sortedBinCounts(sorted: Float64Array, cuts: readonly number[]): Float64Array {
  const counts = new Float64Array(cuts.length + 1);
  let below = 0;
  for (let i = 0; i < cuts.length; i++) {
    const next = lowerBound(sorted, cuts[i] as number);
    counts[i] = next - below;
    below = next;
  }
  counts[cuts.length] = sorted.length - below;
  return counts;
}

/** PSI from aligned counts per bin (or category) of the two sides. */
export function psiFromCounts(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const referenceTotal = total(reference);
  const currentTotal = total(current);
  if (!(referenceTotal > 0 && currentTotal > 0)) {
    throw new StewardError('BAD_REQUEST', 'PSI needs at least one value on each side');
  }
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = (reference[i] as number) / referenceTotal;
    const c = (current[i] as number) / currentTotal;
    const rf = r === 0 ? PSI_FLOOR : r;
    const cf = c === 0 ? PSI_FLOOR : c;
    sum += (cf - rf) * Math.log(cf / rf);
  }
  return sum;
}

function total(counts: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i] as number;
  return sum;
}

function shares(counts: Float64Array): number[] {
  const sum = total(counts);
  return Array.from(counts, (count) => count / sum);
}
