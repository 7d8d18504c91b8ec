/**
 * The special functions the drift tests need for their p-values: the log-gamma function,
 * the regularised incomplete gamma functions (chi-square survival function) and erfc
 * (normal survival function). Written after Numerical Recipes (3rd ed., §6.1–6.2): a
 * series below `x < a + 1`, Lentz's continued fraction above, both to double precision.
 */

const EPS = Number.EPSILON;
/** Smallest positive normal double; keeps Lentz's denominators away from zero. */
const FPMIN = Number.MIN_VALUE / EPS;
/**
 * Both expansions converge in O(sqrt(a)) terms near x ≈ a, so the cap grows with `a`;
 * reaching it means the input is out of any range a drift test produces.
 */
const maxIterations = (a: number) => 1000 + Math.ceil(20 * Math.sqrt(a));

const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 0.00003399464998481189,
  0.00004652362892704858, -0.00009837447530487956, 0.0001580887032249125, -0.00021026444172410488,
  0.00021743961811521265, -0.0001643181065367639, 0.00008441822398385275, -0.000026190838401581408,
  0.0000036899182659531625,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 671/128, 14 terms: about 1e-15 relative). */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma needs x > 0, got ${x}`);
  let y = x;
  const tmp0 = x + 5.2421875;
  const tmp = (x + 0.5) * Math.log(tmp0) - tmp0;
  let series = 0.9999999999999971;
  for (const c of LANCZOS) series += c / ++y;
  return tmp + Math.log((2.5066282746310007 * series) / x);
}

/** exp(-x) x^a / Γ(a): the factor both expansions share, computed in logs so it cannot overflow. */
function prefactor(a: number, x: number): number {
  return Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/** P(a, x) by its series; for x < a + 1, where it converges fast. */
function lowerSeries(a: number, x: number): number {
  let ap = a;
  let del = 1 / a;
  let sum = del;
  const cap = maxIterations(a);
  for (let i = 0; i < cap; i++) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (Math.abs(del) < Math.abs(sum) * EPS) return sum * prefactor(a, x);
  }
  throw new RangeError(`incomplete gamma series did not converge for a=${a}, x=${x}`);
}

/** Q(a, x) by its continued fraction (modified Lentz); for x ≥ a + 1. */
function upperFraction(a: number, x: number): number {
  let b = x + 1 - a;
  let c = 1 / FPMIN;
  let d = 1 / b;
  let h = d;
  const cap = maxIterations(a);
  for (let i = 1; i <= cap; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < FPMIN) d = FPMIN;
    c = b + an / c;
    if (Math.abs(c) < FPMIN) c = FPMIN;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) <= EPS) return prefactor(a, x) * h;
  }
  throw new RangeError(`incomplete gamma continued fraction did not converge for a=${a}, x=${x}`);
}

/** Regularised lower incomplete gamma P(a, x) = γ(a, x) / Γ(a), for a > 0 and x ≥ 0. */
export function gammaP(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 0;
  if (x === Number.POSITIVE_INFINITY) return 1;
  return x < a + 1 ? lowerSeries(a, x) : 1 - upperFraction(a, x);
}

/**
 * Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a) = 1 − P(a, x), for a > 0 and
 * x ≥ 0 (SciPy's `gammaincc`). Computed directly in the upper tail, so small p-values keep
 * their relative precision instead of being 1 − (almost 1).
 */
export function gammaQ(a: number, x: number): number {
  checkGammaArgs(a, x);
  if (x === 0) return 1;
  if (x === Number.POSITIVE_INFINITY) return 0;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperFraction(a, x);
}

function checkGammaArgs(a: number, x: number): void {
  if (!(a > 0)) throw new RangeError(`incomplete gamma needs a > 0, got ${a}`);
  if (!(x >= 0)) throw new RangeError(`incomplete gamma needs x >= 0, got ${x}`);
}

/** Survival function of the chi-square distribution with `df` > 0 degrees of freedom (`chi2.sf`). */
export function chiSquareSf(statistic: number, df: number): number {
  if (statistic <= 0) return 1;
  return gammaQ(df / 2, statistic / 2);
}

/**
 * Complementary error function, through erfc(x) = Q(1/2, x²) for x ≥ 0 and
 * erfc(−x) = 2 − erfc(x): the same double-precision machinery as the chi-square tail.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  return gammaQ(0.5, x * x);
}

/** Survival function of the standard normal distribution, P(Z > z) (`norm.sf`). */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}
