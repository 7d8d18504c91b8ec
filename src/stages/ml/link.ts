/**
 * Numerically stable link functions shared by logistic regression and boosting. Raw
 * scores can be large (a confident model, or an unpenalised fit on separable data), and
 * the naive formulas overflow to Infinity/NaN well before the probabilities stop being
 * meaningful.
 */

/** 1 / (1 + e^-z), without overflow for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^z), without overflow for large z or loss of precision for very negative z. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** Log-odds of p, clipped away from 0 and 1 so a pure class gives a finite start. */
export function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-15), 1 - 1e-15);
  return Math.log(q / (1 - q));
}

/**
 * Replaces `values[offset .. offset+k)` by their softmax in place and returns the
 * log-sum-exp of the original values (the normaliser, needed for the log loss).
 */
export function softmaxInPlace(values: Float64Array, offset: number, k: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) max = Math.max(max, values[offset + c] ?? 0);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp((values[offset + c] ?? 0) - max);
    values[offset + c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) values[offset + c] = (values[offset + c] ?? 0) / sum;
  return max + Math.log(sum);
}
