import { softmaxInPlace } from './link.ts';

/**
 * The per-row passes of logistic regression's Newton solvers, one full sweep over the
 * data each. They are plain top-level functions over typed arrays on purpose: V8
 * compiles such loops reliably, whereas the same loop inside a closure was sometimes
 * optimised at half the speed. The penalty terms are the caller's business.
 *
 * Layout: x is row-major n×d; a parameter vector holds, per score, [w (d values), b]
 * when `intercept` is set, else just w, so score c starts at c·p with p = d (+1).
 */

/**
 * Two classes: returns Σ log-loss at θ, and fills `grad` with Σ (pᵢ - yᵢ) x̃ᵢ and
 * `weights` with pᵢ(1 - pᵢ), the IRLS weights of the Hessian.
 */
export function binaryPass(
  x: Float64Array,
  n: number,
  d: number,
  codes: Int32Array,
  theta: Float64Array,
  intercept: boolean,
  grad: Float64Array,
  weights: Float64Array,
): number {
  grad.fill(0);
  let loss = 0;
  let gradB = 0;
  const b = intercept ? (theta[d] ?? 0) : 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let z = b;
    for (let j = 0; j < d; j++) z += (theta[j] ?? 0) * (x[o + j] ?? 0);
    const y = codes[i] ?? 0;
    // sigmoid(z) and softplus(z) from one exponential, stable for large |z|.
    const e = Math.exp(-Math.abs(z));
    const p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
    loss += Math.max(z, 0) + Math.log1p(e) - y * z;
    weights[i] = p * (1 - p);
    const r = p - y;
    for (let j = 0; j < d; j++) grad[j] = (grad[j] ?? 0) + r * (x[o + j] ?? 0);
    gradB += r;
  }
  if (intercept) grad[d] = gradB;
  return loss;
}

/**
 * K classes: returns Σ log-loss at θ (K score rows), fills `proba` (n×K) with the
 * softmax probabilities and `grad` with Σ (pᵢ - eᵧᵢ) ⊗ x̃ᵢ.
 */
export function softmaxPass(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  codes: Int32Array,
  theta: Float64Array,
  intercept: boolean,
  proba: Float64Array,
  grad: Float64Array,
): number {
  const p = intercept ? d + 1 : d;
  grad.fill(0);
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    const q = i * k;
    for (let c = 0; c < k; c++) {
      const t = c * p;
      let z = intercept ? (theta[t + d] ?? 0) : 0;
      for (let j = 0; j < d; j++) z += (theta[t + j] ?? 0) * (x[o + j] ?? 0);
      proba[q + c] = z;
    }
    const y = codes[i] ?? 0;
    loss -= proba[q + y] ?? 0;
    loss += softmaxInPlace(proba, q, k);
    for (let c = 0; c < k; c++) {
      const r = (proba[q + c] ?? 0) - (c === y ? 1 : 0);
      const g = c * p;
      for (let j = 0; j < d; j++) grad[g + j] = (grad[g + j] ?? 0) + r * (x[o + j] ?? 0);
      if (intercept) grad[g + d] = (grad[g + d] ?? 0) + r;
    }
  }
  return loss;
}

/**
 * K classes: `out` = Σᵢ x̃ᵢ ⊗ (diag(pᵢ) - pᵢpᵢᵀ)(V x̃ᵢ), the data part of the Hessian
 * times V, with pᵢ from the last `softmaxPass`. `u` is scratch of length K.
 */
export function softmaxHessianTimes(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  proba: Float64Array,
  v: Float64Array,
  intercept: boolean,
  out: Float64Array,
  u: Float64Array,
): void {
  const p = intercept ? d + 1 : d;
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    const q = i * k;
    let mean = 0;
    for (let c = 0; c < k; c++) {
      const t = c * p;
      let z = intercept ? (v[t + d] ?? 0) : 0;
      for (let j = 0; j < d; j++) z += (v[t + j] ?? 0) * (x[o + j] ?? 0);
      u[c] = z;
      mean += (proba[q + c] ?? 0) * z;
    }
    for (let c = 0; c < k; c++) {
      const r = (proba[q + c] ?? 0) * ((u[c] ?? 0) - mean);
      const g = c * p;
      for (let j = 0; j < d; j++) out[g + j] = (out[g + j] ?? 0) + r * (x[o + j] ?? 0);
      if (intercept) out[g + d] = (out[g + d] ?? 0) + r;
    }
  }
}
