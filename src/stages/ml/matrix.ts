/**
 * The one dense matrix type the numeric core passes around, and the few kernels the
 * closed-form and Newton solvers need. Row-major `Float64Array` keeps a row contiguous,
 * which is what every model reads at prediction time (one row = one example), and lets a
 * caller hand over a CSV's parsed buffer without copying.
 */
export type Matrix = {
  readonly rows: number;
  readonly cols: number;
  /** Row-major: element (i, j) is `data[i * cols + j]`. Length is `rows * cols`. */
  readonly data: Float64Array;
};

/** A rows×cols matrix over `data` (not copied), or zero-filled when `data` is omitted. */
export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new RangeError(`matrix: bad shape ${rows}×${cols}`);
  }
  const values = data ?? new Float64Array(rows * cols);
  if (values.length !== rows * cols) {
    throw new RangeError(`matrix: ${rows}×${cols} needs ${rows * cols} values, got ${values.length}`);
  }
  return { rows, cols, data: values };
}

/** Copies an array of equal-length rows into a matrix. */
export function fromRows(rows: readonly (readonly number[])[]): Matrix {
  const cols = rows[0]?.length ?? 0;
  const data = new Float64Array(rows.length * cols);
  rows.forEach((row, i) => {
    if (row.length !== cols) throw new RangeError(`fromRows: row ${i} has ${row.length} values, not ${cols}`);
    data.set(row, i * cols);
  });
  return { rows: rows.length, cols, data };
}

/** The rows as plain arrays (for JSON, tests and people). */
export function toRows(m: Matrix): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < m.rows; i++) out.push(Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  return out;
}

/** A view of row `i` (shares memory with `m`). */
export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** A new matrix holding the given rows of `m`, in the given order (repeats allowed). */
export function selectRows(m: Matrix, indices: ArrayLike<number>): Matrix {
  const out = new Float64Array(indices.length * m.cols);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k] ?? 0;
    out.set(m.data.subarray(i * m.cols, (i + 1) * m.cols), k * m.cols);
  }
  return { rows: indices.length, cols: m.cols, data: out };
}

/**
 * Σᵢ wᵢ zᵢ zᵢᵀ where zᵢ is row i of X, extended with a trailing 1 when `intercept` is set
 * (so the last row/column holds Σ wᵢ xᵢ and Σ wᵢ). `weights` null means all ones.
 *
 * This is the hot loop of both least squares and each Newton step of logistic regression.
 * It accumulates four rows per pass over the upper triangle, which cuts the loads and
 * stores of the accumulator by four and roughly halves the time in V8.
 */
export function weightedGram(X: Matrix, weights: Float64Array | null, intercept: boolean): Matrix {
  const { rows: n, cols: d, data: x } = X;
  const p = intercept ? d + 1 : d;
  const g = new Float64Array(p * p);
  const w = (i: number): number => (weights ? (weights[i] ?? 0) : 1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o0 = i * d;
    const o1 = o0 + d;
    const o2 = o1 + d;
    const o3 = o2 + d;
    const w0 = w(i);
    const w1 = w(i + 1);
    const w2 = w(i + 2);
    const w3 = w(i + 3);
    for (let j = 0; j < d; j++) {
      const a0 = w0 * (x[o0 + j] ?? 0);
      const a1 = w1 * (x[o1 + j] ?? 0);
      const a2 = w2 * (x[o2 + j] ?? 0);
      const a3 = w3 * (x[o3 + j] ?? 0);
      const base = j * p;
      for (let k = j; k < d; k++) {
        g[base + k] =
          (g[base + k] ?? 0) +
          a0 * (x[o0 + k] ?? 0) +
          a1 * (x[o1 + k] ?? 0) +
          a2 * (x[o2 + k] ?? 0) +
          a3 * (x[o3 + k] ?? 0);
      }
      if (intercept) g[base + d] = (g[base + d] ?? 0) + a0 + a1 + a2 + a3;
    }
    if (intercept) g[d * p + d] = (g[d * p + d] ?? 0) + w0 + w1 + w2 + w3;
  }
  for (; i < n; i++) {
    const o = i * d;
    const wi = w(i);
    for (let j = 0; j < d; j++) {
      const a = wi * (x[o + j] ?? 0);
      const base = j * p;
      for (let k = j; k < d; k++) g[base + k] = (g[base + k] ?? 0) + a * (x[o + k] ?? 0);
      if (intercept) g[base + d] = (g[base + d] ?? 0) + a;
    }
    if (intercept) g[d * p + d] = (g[d * p + d] ?? 0) + wi;
  }
  for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) g[j * p + k] = g[k * p + j] ?? 0;
  return { rows: p, cols: p, data: g };
}

/**
 * The lower-triangular L with L Lᵀ = A, for a symmetric positive-definite A (only the
 * lower triangle of A is read). Returns null when A is not numerically positive definite,
 * so callers can decide whether to regularise and retry rather than catch an exception.
 */
export function cholesky(A: Matrix): Matrix | null {
  const n = A.rows;
  if (A.cols !== n) throw new RangeError(`cholesky: matrix is ${A.rows}×${A.cols}, not square`);
  const a = A.data;
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let diag = a[j * n + j] ?? 0;
    for (let k = 0; k < j; k++) diag -= (l[j * n + k] ?? 0) ** 2;
    // Relative test: a pivot that lost all but rounding noise means A is singular.
    if (!(diag > 1e-13 * Math.abs(a[j * n + j] ?? 0)) || !(diag > 0)) return null;
    const ljj = Math.sqrt(diag);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j] ?? 0;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] ?? 0) * (l[j * n + k] ?? 0);
      l[i * n + j] = s / ljj;
    }
  }
  return { rows: n, cols: n, data: l };
}

/** Solves (L Lᵀ) x = b given the Cholesky factor L, by forward then back substitution. */
export function choleskySolve(L: Matrix, b: ArrayLike<number>): Float64Array {
  const n = L.rows;
  const l = L.data;
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] ?? 0;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] ?? 0) * (z[k] ?? 0);
    z[i] = s / (l[i * n + i] ?? 1);
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i] ?? 0;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] ?? 0) * (z[k] ?? 0);
    z[i] = s / (l[i * n + i] ?? 1);
  }
  return z;
}

/**
 * Factors a symmetric positive-definite A once and returns a solver for A x = b, or null
 * if A is not positive definite. Newton's method solves with the same matrix repeatedly
 * (as a preconditioner), so the O(n³) factorisation is paid once.
 *
 * A is first scaled to unit diagonal (D^-½ A D^-½), which leaves the solution unchanged
 * but keeps features on very different scales (say, income and a 0/1 flag) from making
 * the factorisation lose precision or falsely look singular.
 */
export function factorSpd(A: Matrix): ((b: ArrayLike<number>) => Float64Array) | null {
  const n = A.rows;
  const scale = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const diag = A.data[i * n + i] ?? 0;
    if (!(diag > 0) || !Number.isFinite(diag)) return null;
    scale[i] = 1 / Math.sqrt(diag);
  }
  const scaled = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++)
      scaled[i * n + j] = (A.data[i * n + j] ?? 0) * (scale[i] ?? 0) * (scale[j] ?? 0);
  }
  const L = cholesky({ rows: n, cols: n, data: scaled });
  if (!L) return null;
  return (b) => {
    const rhs = new Float64Array(n);
    for (let i = 0; i < n; i++) rhs[i] = (b[i] ?? 0) * (scale[i] ?? 0);
    const z = choleskySolve(L, rhs);
    for (let i = 0; i < n; i++) z[i] = (z[i] ?? 0) * (scale[i] ?? 0);
    return z;
  };
}

/** Solves A x = b for symmetric positive-definite A (see `factorSpd`), or null if A is not. */
export function solveSpd(A: Matrix, b: ArrayLike<number>): Float64Array | null {
  return factorSpd(A)?.(b) ?? null;
}
