import { totals } from './chisquare.ts';

/**
 * Jensen–Shannon distance between two distributions given as aligned counts or shares:
 * `scipy.spatial.distance.jensenshannon(reference, current)` with its default natural log,
 * √((KL(p‖m) + KL(q‖m)) / 2) with m = (p + q)/2 after normalising both to sum to 1. It lies
 * in [0, √ln 2 ≈ 0.833]; categories one side lacks are fine (their terms are 0).
 * Rounding can leave the divergence a hair below 0 for identical inputs, where SciPy's
 * square root would give NaN; it is clamped to 0.
 */
export function jensenShannon(reference: ArrayLike<number>, current: ArrayLike<number>): number {
  const [referenceTotal, currentTotal] = totals('Jensen-Shannon', reference, current);
  let left = 0;
  let right = 0;
  for (let i = 0; i < reference.length; i++) {
    const p = (reference[i] as number) / referenceTotal;
    const q = (current[i] as number) / currentTotal;
    const m = (p + q) / 2;
    if (p > 0) left += p * Math.log(p / m);
    if (q > 0) right += q * Math.log(q / m);
  }
  return Math.sqrt(Math.max(0, (left + right) / 2));
}
