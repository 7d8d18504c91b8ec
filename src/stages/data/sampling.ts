/**
 * Inverse-CDF samplers: each turns exactly one uniform draw into a value. The synthetic
 * generators draw the same uniforms in the same order whatever the options, and let the
 * options (drift) only change these transforms; so a drifted table is the undrifted one
 * moved, row by row, and a drift test sees the shift rather than sampling noise.
 */

/** Index of the category a uniform `u` in [0, 1) falls in, for probabilities summing to 1. */
export function pickIndex(u: number, probabilities: readonly number[]): number {
  let cumulative = 0;
  for (let i = 0; i < probabilities.length; i++) {
    cumulative += probabilities[i] ?? 0;
    if (u < cumulative) return i;
  }
  return probabilities.length - 1;
}

/** Poisson(lambda) by walking its CDF; fine for the small rates the generators use. */
export function poisson(u: number, lambda: number): number {
  let k = 0;
  let p = Math.exp(-lambda);
  let cumulative = p;
  while (u >= cumulative && k < 1000) {
    k++;
    p *= lambda / k;
    cumulative += p;
  }
  return k;
}

/** Exponential with the given mean. */
export function exponential(u: number, mean: number): number {
  return -Math.log(1 - u) * mean;
}

/** `(1 - t) * a + t * b`, element-wise: category frequencies moved a share `t` towards `b`. */
export function blend(a: readonly number[], b: readonly number[], t: number): number[] {
  return a.map((value, i) => (1 - t) * value + t * (b[i] ?? 0));
}

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

/** Rounds to `digits` decimals (negative: to tens, hundreds, ...), as a CSV export would. */
export function round(value: number, digits = 0): number {
  if (digits < 0) {
    // Multiplying back by an exact power of ten keeps whole numbers whole.
    const step = 10 ** -digits;
    return Math.round(value / step) * step;
  }
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
