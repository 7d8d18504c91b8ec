/**
 * The exact two-sided p-value of the two-sample Kolmogorov–Smirnov test, P(D ≥ h / lcm)
 * under the null hypothesis, as SciPy's `ks_2samp(method='exact')` computes it
 * (`scipy/stats/_stats_py.py` `_attempt_exact_2kssamp` and `_stats_pythran.py`). Lattice
 * paths from (0, 0) to (n₁, n₂) are counted by Hodges' (1958) treatment, in the form of
 * Viehmann (2021) that computes the outside proportion directly and stays within [0, 1].
 */

/**
 * The exact p-value for D = h / lcm(n₁, n₂) with gcd g, or `undefined` when the computation
 * leaves [0, 1] (SciPy then falls back to the asymptotic distribution).
 */
export function exactKsPValue(n1: number, n2: number, g: number, h: number): number | undefined {
  if (h === 0) return 1;
  const p = n1 === n2 ? probOutsideSquare(n1, h) : probOutsideInside(n1, n2, g, h);
  return p >= 0 && p <= 1 ? p : undefined;
}

/**
 * Equal sizes: Pr(D_{n,n} ≥ h/n) = 2 Σₖ (−1)^(k−1) C(2n, n − kh) / C(2n, n), evaluated
 * Horner-like from the innermost term to avoid the alternating sum's cancellation.
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let term = 1;
    for (let j = 0; j < h; j++) term = ((n - k * h - j) * term) / (n + k * h + j + 1);
    p = term * (1 - p);
  }
  return 2 * p;
}

/**
 * Unequal sizes: the proportion of lattice paths that leave the band |x/m − y/n| < h/lcm,
 * one column at a time over a sliding window of the band.
 */
function probOutsideInside(n1: number, n2: number, g: number, h: number): number {
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(lenA).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    const shift = minj - lastminj;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = ((A[jj + shift] ?? 1) * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    // Entries that slid out of the window are outside the band: probability 1.
    if (lastlen > curlen) A.fill(1, curlen, Math.min(lenA, curlen + (lastlen - curlen)));
  }
  return A[maxj - minj - 1] as number;
}
