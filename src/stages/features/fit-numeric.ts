import type { FeaturesSpec } from './features-spec.ts';
import type { BooleanStep, NumericStep } from './transform-schema.ts';

/** -0 would come back from JSON as 0; storing 0 keeps the round trip bit-identical. */
const plain = (x: number): number => x + 0;

function median(sorted: Float64Array): number {
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? 0;
  return sorted.length % 2 ? upper : ((sorted[mid - 1] ?? 0) + upper) / 2;
}

/**
 * Fits imputation and scaling for one numeric or boolean column, in scikit-learn's pipeline order:
 * the imputation value from the present values, then the scaling statistics from the
 * imputed column (so mean imputation shrinks the standard deviation, as it does there).
 * Standard scaling divides by the population standard deviation (ddof = 0), as
 * StandardScaler does. Returns null when the imputed column is constant: it carries no
 * information, and scaling it would divide by zero.
 */
export function fitNumeric(
  name: string,
  kind: 'numeric' | 'boolean',
  values: Float64Array,
  impute: FeaturesSpec['impute']['numeric'],
  scale: FeaturesSpec['scale'],
): NumericStep | BooleanStep | null {
  const present = values.filter((v) => !Number.isNaN(v));
  if (present.length === 0) return null;
  let fill = 0;
  if (impute === 'mean') fill = present.reduce((sum, v) => sum + v, 0) / present.length;
  else if (impute === 'median') fill = median(present.sort());

  const n = values.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const v of values) {
    const x = Number.isNaN(v) ? fill : v;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  if (min === max) return null;

  let center = 0;
  let spread = 1;
  if (scale === 'standard') {
    center = sum / n;
    let squares = 0;
    for (const v of values) {
      const d = (Number.isNaN(v) ? fill : v) - center;
      squares += d * d;
    }
    spread = Math.sqrt(squares / n) || 1;
  } else if (scale === 'minmax') {
    center = min;
    spread = max - min;
  }
  return { name, kind, impute: plain(fill), center: plain(center), scale: spread };
}
