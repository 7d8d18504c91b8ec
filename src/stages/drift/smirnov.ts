/**
 * The one-sided Kolmogorov–Smirnov survival function P(D⁺ₙ ≥ x), SciPy's
 * `scipy.special.smirnov(n, x)`, by the same Birnbaum–Tingey / Smirnov sums and the same
 * special cases (after xsf's `cephes/kolmogorov.h`). The two-sided asymptotic p-value of
 * `ks2samp` uses it as 2·smirnov in its upper tail.
 *
 * SciPy sums in double-double arithmetic; here each term is built in logarithms instead
 * (the lower sum has only positive terms, so nothing cancels), which keeps about 1e-11 of
 * relative precision for n up to 10⁶: far below what a p-value needs.
 */

/** ln of the smallest normal double: exp of anything below returns 0 (cephes' MINLOG). */
const MINLOG = -708.3964185322641;
/** Above this n SciPy switches to an approximation rather than summing n terms. */
const SMIRNOV_MAX_COMPUTE_N = 1_000_000;
const SM_UPPER_MAX_TERMS = 3;
const SM_UPPERSUM_MIN_N = 10;

export function smirnovSf(n: number, x: number): number {
  if (!(n > 0 && Number.isInteger(n) && x >= 0 && x <= 1)) return Number.NaN;
  if (n === 1) return 1 - x;
  if (x === 0) return 1;
  if (x === 1) return 0;

  const nx = n * x;
  let nxfl = Math.floor(nx);
  let alpha = nx - nxfl;
  if (alpha === 1) {
    nxfl += 1;
    alpha = 0;
  }
  let n1mxfl = n - nxfl - (alpha === 0 ? 0 : 1);
  let n1mxceil = n - nxfl;
  // When n·x is an integer the last term of either sum is zero: leave it out.
  if (alpha === 0) {
    n1mxfl -= 1;
    n1mxceil += 1;
  }

  // x <= 1/n
  if (nxfl === 0 || (nxfl === 1 && alpha === 0)) return clip(1 - x * (1 + x) ** (n - 1));
  // The survival function underflows.
  if (-2 * n * x * x < MINLOG) return 0;
  // x >= 1 - 1/n
  if (nxfl >= n - 1) return clip((1 - x) ** n);
  if (n > SMIRNOV_MAX_COMPUTE_N) {
    const logp = -((6 * nx + 1) ** 2) / 18 / n;
    return clip(logp < -Math.LN2 ? Math.exp(logp) : 1 + Math.expm1(logp));
  }

  // The upper sum alternates in sign and loses about 1.6 bits per term: use it only when
  // it has very few terms.
  const nUpperTerms = n - n1mxceil + 1;
  const useUpperSum =
    (nUpperTerms <= 1 && x < 0.5) ||
    (n >= SM_UPPERSUM_MIN_N && nUpperTerms <= SM_UPPER_MAX_TERMS && x <= 0.5 / Math.sqrt(n));

  const start = useUpperSum ? n : 0;
  const step = useUpperSum ? -1 : 1;
  const nTerms = useUpperSum ? n - n1mxceil + 1 : n1mxfl + 1;
  const vmid = Math.floor(n / 2);
  // A_v = C(n, v) (1 - x - v/n)^(n - v) (x + v/n)^(v - 1); the first term of each sum in closed form.
  let sum = useUpperSum ? (1 + x) ** (n - 1) : (1 - x) ** n / x;
  let logBinomial = 0; // ln C(n, j), advanced as j grows
  for (let j = 1; j < nTerms; j++) {
    logBinomial += Math.log((n - (j - 1)) / j);
    const v = start + j * step;
    const term = sumTerm(n, x, v, logBinomial);
    if (Number.isFinite(term) && term !== 0) sum += term;
    if (term !== 0) {
      if (4 * (nTerms - j) * Math.abs(term) < Number.EPSILON * sum && j !== nTerms - 1) break;
    } else if (j > vmid) {
      break;
    }
  }
  const prob = x * sum;
  return clip(useUpperSum ? 1 - prob : prob);
}

/** One A_v with its sign: (1 - x - v/n) is negative in the upper sum. */
function sumTerm(n: number, x: number, v: number, logBinomial: number): number {
  const base2 = (n - v) / n - x;
  const base1 = v / n + x;
  const power2 = n - v;
  if (base2 === 0) return power2 === 0 ? Math.exp(logBinomial + (v - 1) * Math.log(base1)) : 0;
  const log2 = power2 * (base2 > 0 ? Math.log1p(-(v / n + x)) : Math.log(-base2));
  const sign = base2 < 0 && power2 % 2 === 1 ? -1 : 1;
  return sign * Math.exp(logBinomial + log2 + (v - 1) * Math.log(base1));
}

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}
