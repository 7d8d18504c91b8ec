/**
 * The two exact finite-n algorithms behind `kolmogorovSf` for P(Dₙ ≤ x), as SciPy's
 * `scipy/stats/_ksstats.py` implements them: Durbin's matrix formula and Pomeranz's
 * recursion. Both rescale by powers of 2¹²⁸ and keep the exponent apart, so huge and tiny
 * intermediate values stay in range.
 */

const TWO_128 = 2 ** 128;
const TWO_M128 = 2 ** -128;

/** p · 2^e without the intermediate underflow or overflow of `p * 2 ** e`. */
function ldexp(p: number, e: number): number {
  let value = p;
  let rest = e;
  while (rest > 1000) {
    value *= 2 ** 1000;
    rest -= 1000;
  }
  while (rest < -1000) {
    value *= 2 ** -1000;
    rest += 1000;
  }
  return value * 2 ** rest;
}

/** Square matrix product c = a · b, row-major, size m. */
function multiply(a: Float64Array, b: Float64Array, m: number): Float64Array<ArrayBuffer> {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    const row = i * m;
    for (let k = 0; k < m; k++) {
      const aik = a[row + k] as number;
      if (aik === 0) continue;
      const col = k * m;
      for (let j = 0; j < m; j++) c[row + j] = (c[row + j] as number) + aik * (b[col + j] as number);
    }
  }
  return c;
}

/**
 * P(Dₙ ≤ d) by Durbin's matrix formula as Marsaglia, Tsang and Wang (2003) compute it: the
 * (k, k) element of Hⁿ times n!/nⁿ, with H an m × m matrix (m = 2⌈nd⌉ − 1), raised by
 * squaring and rescaled by powers of 2¹²⁸ to stay in range.
 */
export function durbinMatrixCdf(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;

  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;

  let H = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1] as number;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r] as number;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c] as number;

  let power = new Float64Array(m * m);
  for (let i = 0; i < m; i++) power[i * m + i] = 1;
  let nn = n;
  let exponent = 0;
  let hExponent = 0;
  while (nn > 0) {
    if (nn % 2) {
      power = multiply(power, H, m);
      exponent += hExponent;
    }
    H = multiply(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)] as number) > TWO_128) {
      for (let i = 0; i < H.length; i++) H[i] = (H[i] as number) / TWO_128;
      hExponent += 128;
    }
    nn = Math.floor(nn / 2);
  }

  let p = power[(k - 1) * m + (k - 1)] as number;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < TWO_M128) {
      p *= TWO_128;
      exponent -= 128;
    }
  }
  if (exponent !== 0) p = ldexp(p, exponent);
  return clip(p);
}

/** The window [j1, j2] of row i in Pomeranz's recursion (SciPy's `_pomeranz_compute_j1j2`). */
function pomeranzWindow(i: number, n: number, ll: number, ceilf: number, roundf: number): [number, number] {
  let j1: number;
  let j2: number;
  if (i === 0) {
    j1 = -ll - ceilf - 1;
    j2 = ll + ceilf - 1;
  } else {
    const half = Math.floor((i + 1) / 2);
    if ((i + 1) % 2 === 0) {
      if (half === n + 1) {
        j1 = n - ll - ceilf - 1;
        j2 = n + ll + ceilf - 1;
      } else {
        j1 = half - 1 - ll - roundf - 1;
        j2 = half + ll - 1 + ceilf - 1;
      }
    } else {
      j1 = half - 1 - ll - 1;
      j2 = half + ll + roundf - 1;
    }
  }
  return [Math.max(j1 + 2, 0), Math.min(j2, n)];
}

/** P(Dₙ ≤ x) by Pomeranz's (1974) recursion, for small n and moderate n·x². */
export function pomeranzCdf(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  // (g/n)^m/m!, (2g/n)^m/m! and ((1-2g)/n)^m/m!
  const gpower = new Float64Array(npwrs);
  const twoGpower = new Float64Array(npwrs);
  const oneMinus2Gpower = new Float64Array(npwrs);
  gpower[0] = 1;
  twoGpower[0] = 1;
  oneMinus2Gpower[0] = 1;
  for (let m = 1; m < npwrs; m++) {
    gpower[m] = ((gpower[m - 1] as number) * (g / n)) / m;
    twoGpower[m] = ((twoGpower[m - 1] as number) * ((2 * g) / n)) / m;
    oneMinus2Gpower[m] = ((oneMinus2Gpower[m - 1] as number) * ((1 - 2 * g) / n)) / m;
  }

  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let exponent = 0;
  let [j1, j2] = pomeranzWindow(0, n, ll, ceilf, roundf);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = pomeranzWindow(i, n, ll, ceilf, roundf);
    const powers = i === 1 || i === 2 * n + 1 ? gpower : i % 2 ? twoGpower : oneMinus2Gpower;
    const len = j2 - k1 + 1;
    if (len > 0) {
      // Entries conv_start .. conv_start + conv_len - 1 of the full convolution of
      // V0[k1 - V0s ..][:len] with powers[:len].
      const offset = k1 - V0s;
      const convStart = j1 - k1;
      const convLen = j2 - j1 + 1;
      let max = 0;
      for (let c = 0; c < convLen; c++) {
        const k = convStart + c;
        let sum = 0;
        for (let a = Math.max(0, k - len + 1); a <= Math.min(k, len - 1); a++) {
          sum += (V0[offset + a] ?? 0) * (powers[k - a] as number);
        }
        V1[c] = sum;
        if (sum > max) max = sum;
      }
      if (max > 0 && max < TWO_M128) {
        for (let c = 0; c < V1.length; c++) V1[c] = (V1[c] as number) * TWO_128;
        exponent -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let answer = V1[n - V1s] ?? 0;
  for (let m = 1; m <= n; m++) {
    if (Math.abs(answer) > TWO_128) {
      answer *= TWO_M128;
      exponent += 128;
    }
    answer *= m;
  }
  if (exponent !== 0) answer = ldexp(answer, exponent);
  return clip(answer);
}

function clip(p: number): number {
  return Math.min(1, Math.max(0, p));
}
