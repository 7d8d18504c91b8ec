import { StewardError } from '../../errors.ts';
import { normalSf } from './special.ts';

export type ZTestResult = { statistic: number; pValue: number };

/**
 * Two-sided z-test for the difference of two proportions with the pooled proportion, as
 * Evidently's `z` drift test for binary columns (`proportions_diff_z_stat_ind`):
 * z = (p₁ − p₂) / √(P(1 − P)(1/n₁ + 1/n₂)) with P = (k₁ + k₂) / (n₁ + n₂), and
 * p = 2·(1 − Φ(|z|)), computed as 2·Φ̄(|z|) so small p-values keep their digits.
 *
 * `k` counts one of the two values on each side (Evidently counts the second in sorted
 * order; which one only flips the sign of z). When both sides hold only one and the same value
 * (P is 0 or 1) there is nothing to test: statistic 0 and p-value 1, as Evidently.
 */
export function zTestProportions(
  referenceCount: number,
  referenceTotal: number,
  currentCount: number,
  currentTotal: number,
): ZTestResult {
  for (const [name, k, n] of [
    ['reference', referenceCount, referenceTotal],
    ['current', currentCount, currentTotal],
  ] as const) {
    if (!(n >= 1 && k >= 0 && k <= n && Number.isFinite(n))) {
      throw new StewardError(
        'BAD_REQUEST',
        `z-test: the ${name} needs 0 <= count <= total and total >= 1 (got ${k} of ${n})`,
      );
    }
  }
  const p1 = referenceCount / referenceTotal;
  const p2 = currentCount / currentTotal;
  const pooled = (p1 * referenceTotal + p2 * currentTotal) / (referenceTotal + currentTotal);
  const variance = pooled * (1 - pooled) * (1 / referenceTotal + 1 / currentTotal);
  if (!(variance > 0)) return { statistic: 0, pValue: 1 };
  const statistic = (p1 - p2) / Math.sqrt(variance);
  return { statistic, pValue: Math.min(1, 2 * normalSf(Math.abs(statistic))) };
}
