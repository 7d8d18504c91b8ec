import { StewardError } from '../../errors.ts';
import { chiSquareSf } from './special.ts';

/**
 * The expected share given to categories the reference never had, pooled into one "unseen"
 * bucket. SciPy's `chisquare` gives an infinite statistic for an observed count whose
 * expected count is 0, which says nothing about how much changed (and does not survive
 * JSON). With the floor, one unseen value among a thousand adds about 8 to the statistic
 * and a hundred make the p-value 0, so new categories count in proportion to how many
 * values carry them.
 */
export const UNSEEN_SHARE = 1e-4;

export type ChiSquareResult = { statistic: number; pValue: number; df: number };

export type ChiSquareGoFResult = ChiSquareResult & {
  /** Indices of the categories the reference never had but the current data has (pooled). */
  unseen: number[];
};

/**
 * Chi-square goodness of fit of the current counts against the reference's shares, as
 * Evidently's `chisquare` drift test: `scipy.stats.chisquare(f_obs=current, f_exp=share ×
 * current total)`. Counts are aligned per category (index i is the same category on both
 * sides); categories absent from both sides are ignored.
 *
 * Categories only the current data has are pooled into one bucket whose expected share is
 * `UNSEEN_SHARE`, and all expected shares are divided by (1 + `UNSEEN_SHARE`) so they still
 * sum to 1 (SciPy's `chisquare` requires the totals to agree). With a single bucket (one
 * category on both sides) the statistic is 0 and the p-value 1, where SciPy would return NaN
 * for zero degrees of freedom.
 */
export function chiSquareGoF(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquareGoFResult {
  const [referenceTotal, currentTotal] = totals('chi-square', reference, current);
  const unseen: number[] = [];
  let unseenObserved = 0;
  let buckets = 0;
  for (let i = 0; i < reference.length; i++) {
    if ((reference[i] as number) > 0) buckets++;
    else if ((current[i] as number) > 0) {
      unseen.push(i);
      unseenObserved += current[i] as number;
    }
  }
  const scale = unseen.length > 0 ? 1 + UNSEEN_SHARE : 1;
  let statistic = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    if (r <= 0) continue;
    const expected = (r / referenceTotal / scale) * currentTotal;
    const diff = (current[i] as number) - expected;
    statistic += (diff * diff) / expected;
  }
  if (unseen.length > 0) {
    buckets++;
    const expected = (UNSEEN_SHARE / scale) * currentTotal;
    const diff = unseenObserved - expected;
    statistic += (diff * diff) / expected;
  }
  const df = buckets - 1;
  if (df === 0) return { statistic: 0, pValue: 1, df, unseen };
  return { statistic, pValue: chiSquareSf(statistic, df), df, unseen };
}

/**
 * Pearson's chi-square test of independence on the 2 × k table of reference and current
 * counts per category: `scipy.stats.chi2_contingency([reference, current], correction=False)`.
 * Categories absent from both sides are left out (SciPy refuses a zero expected count). With
 * one category the table has no degrees of freedom: statistic 0, p-value 1, as SciPy.
 */
export function chi2Contingency(reference: ArrayLike<number>, current: ArrayLike<number>): ChiSquareResult {
  const [referenceTotal, currentTotal] = totals('chi-square', reference, current);
  const total = referenceTotal + currentTotal;
  let statistic = 0;
  let columns = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const c = current[i] as number;
    const column = r + c;
    if (column === 0) continue;
    columns++;
    const expectedR = (referenceTotal * column) / total;
    const expectedC = (currentTotal * column) / total;
    statistic +=
      ((r - expectedR) * (r - expectedR)) / expectedR + ((c - expectedC) * (c - expectedC)) / expectedC;
  }
  const df = columns - 1;
  if (df === 0) return { statistic: 0, pValue: 1, df };
  return { statistic, pValue: chiSquareSf(statistic, df), df };
}

export function totals(
  test: string,
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): [number, number] {
  if (reference.length !== current.length) {
    throw new StewardError(
      'BAD_REQUEST',
      `${test} needs one count per category on each side (reference has ${reference.length}, current has ${current.length})`,
    );
  }
  let r = 0;
  let c = 0;
  for (let i = 0; i < reference.length; i++) {
    const a = reference[i] as number;
    const b = current[i] as number;
    if (!(a >= 0 && b >= 0 && Number.isFinite(a) && Number.isFinite(b))) {
      throw new StewardError('BAD_REQUEST', `${test} counts must be finite and not negative (category ${i})`);
    }
    r += a;
    c += b;
  }
  if (r === 0 || c === 0) {
    throw new StewardError(
      'BAD_REQUEST',
      `${test} needs at least one value on each side (reference ${r}, current ${c})`,
    );
  }
  return [r, c];
}
