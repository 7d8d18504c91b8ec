import { logit, sigmoid, softmaxInPlace, softplus } from './link.ts';

/**
 * The losses gradient boosting can minimise, as scikit-learn's HistGradientBoosting
 * defines them. Raw scores are row-major n × width (width 1, or K for softmax); for
 * classification the target holds class codes 0..K-1. Gradients and hessians are laid
 * out one array per output so each tree reads its own contiguously.
 */
export type BoostLoss = {
  width: number;
  /** The best constant raw score (the prediction before any tree). */
  baseline(target: Float64Array): Float64Array;
  gradients(raw: Float64Array, target: Float64Array, grad: Float64Array[], hess: Float64Array[]): void;
  /** Mean loss; used for early stopping on held-out rows. */
  loss(raw: Float64Array, target: Float64Array): number;
};

/** Half squared error, for regression. */
export const squaredError: BoostLoss = {
  width: 1,
  baseline(target) {
    let mean = 0;
    for (let i = 0; i < target.length; i++) mean += target[i] ?? 0;
    return Float64Array.of(mean / target.length);
  },
  gradients(raw, target, [grad], [hess]) {
    if (!grad || !hess) return;
    for (let i = 0; i < target.length; i++) {
      grad[i] = (raw[i] ?? 0) - (target[i] ?? 0);
      hess[i] = 1;
    }
  },
  loss(raw, target) {
    let sum = 0;
    for (let i = 0; i < target.length; i++) sum += 0.5 * ((raw[i] ?? 0) - (target[i] ?? 0)) ** 2;
    return sum / target.length;
  },
};

/** Binary log loss on the log-odds of class 1. */
export const binaryLogLoss: BoostLoss = {
  width: 1,
  baseline(target) {
    let positives = 0;
    for (let i = 0; i < target.length; i++) positives += target[i] ?? 0;
    return Float64Array.of(logit(positives / target.length));
  },
  gradients(raw, target, [grad], [hess]) {
    if (!grad || !hess) return;
    for (let i = 0; i < target.length; i++) {
      const p = sigmoid(raw[i] ?? 0);
      grad[i] = p - (target[i] ?? 0);
      hess[i] = p * (1 - p);
    }
  },
  loss(raw, target) {
    let sum = 0;
    for (let i = 0; i < target.length; i++) sum += softplus(raw[i] ?? 0) - (target[i] ?? 0) * (raw[i] ?? 0);
    return sum / target.length;
  },
};

/** Multinomial log loss over K raw scores per row (one tree per class per round). */
export function softmaxLoss(k: number): BoostLoss {
  const row = new Float64Array(k);
  return {
    width: k,
    baseline(target) {
      const counts = new Float64Array(k);
      for (let i = 0; i < target.length; i++) counts[target[i] ?? 0] = (counts[target[i] ?? 0] ?? 0) + 1;
      return counts.map((c) => Math.log(Math.max(c, 1e-15) / target.length));
    },
    gradients(raw, target, grad, hess) {
      for (let i = 0; i < target.length; i++) {
        for (let c = 0; c < k; c++) row[c] = raw[i * k + c] ?? 0;
        softmaxInPlace(row, 0, k);
        const y = target[i] ?? 0;
        for (let c = 0; c < k; c++) {
          const p = row[c] ?? 0;
          const g = grad[c];
          const h = hess[c];
          if (g) g[i] = p - (c === y ? 1 : 0);
          if (h) h[i] = p * (1 - p);
        }
      }
    },
    loss(raw, target) {
      let sum = 0;
      for (let i = 0; i < target.length; i++) {
        for (let c = 0; c < k; c++) row[c] = raw[i * k + c] ?? 0;
        sum += softmaxInPlace(row, 0, k) - (raw[i * k + (target[i] ?? 0)] ?? 0);
      }
      return sum / target.length;
    },
  };
}
