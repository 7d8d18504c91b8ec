import { StewardError } from '../../errors.ts';
import { canonical, readHeader, readNumber, readNumbers } from './json.ts';
import { type Matrix, solveSpd, weightedGram } from './matrix.ts';
import type { ModelJsonHeader, Regressor } from './model.ts';
import { checkPredict, checkTraining } from './validate.ts';

/**
 * Least-squares linear regression with an optional ridge penalty, solved in closed form.
 *
 * Features and target are centred first, so the intercept falls out as ȳ - x̄·w and is
 * never penalised (as in scikit-learn's Ridge), and the normal equations
 * (XcᵀXc + αI) w = Xcᵀyc are solved by Cholesky. One pass over the data builds the d×d
 * system, so 100k×20 fits in milliseconds. With α = 0 and collinear or constant columns
 * the system is singular; the fit then adds the smallest ridge (from 1e-10 of the mean
 * diagonal, growing tenfold) that makes it solvable, which approximates the minimum-norm
 * least-squares solution scikit-learn's LinearRegression returns.
 */
export type LinearParams = {
  /** L2 penalty on the coefficients (not the intercept). Default 0: ordinary least squares. */
  alpha?: number;
  /** Fit an intercept. Default true. */
  fitIntercept?: boolean;
};

export type LinearJson = ModelJsonHeader<'linear', 'regression'> & {
  coefficients: number[];
  intercept: number;
};

export class LinearModel implements Regressor {
  readonly kind = 'linear';
  readonly task = 'regression';

  constructor(
    /** One weight per feature. */
    readonly coefficients: Float64Array,
    readonly intercept: number,
  ) {
    canonical(coefficients);
    this.intercept = intercept + 0;
  }

  get nFeatures(): number {
    return this.coefficients.length;
  }

  predict(X: Matrix): Float64Array {
    checkPredict(X, this.nFeatures);
    const { rows, cols, data } = X;
    const w = this.coefficients;
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = this.intercept;
      const o = i * cols;
      for (let j = 0; j < cols; j++) s += (w[j] ?? 0) * (data[o + j] ?? 0);
      out[i] = s;
    }
    return out;
  }

  toJSON(): LinearJson {
    return {
      kind: 'linear',
      task: 'regression',
      version: 1,
      nFeatures: this.nFeatures,
      coefficients: Array.from(this.coefficients),
      intercept: this.intercept,
    };
  }

  static fromJSON(json: unknown): LinearModel {
    const header = readHeader(json, 'linear', 'regression');
    return new LinearModel(
      readNumbers(json, 'coefficients', header.nFeatures),
      readNumber(json, 'intercept'),
    );
  }
}

/** Fits ordinary least squares (α = 0) or ridge regression. */
export function fitLinear(X: Matrix, y: ArrayLike<number>, params: LinearParams = {}): LinearModel {
  checkTraining(X, y);
  const alpha = params.alpha ?? 0;
  if (!(alpha >= 0)) throw new StewardError('BAD_REQUEST', `alpha must be ≥ 0, got ${alpha}`);
  const fitIntercept = params.fitIntercept ?? true;
  const { rows: n, cols: d } = X;

  const xMean = new Float64Array(d);
  let yMean = 0;
  if (fitIntercept) {
    for (let i = 0; i < n; i++) {
      yMean += y[i] ?? 0;
      for (let j = 0; j < d; j++) xMean[j] = (xMean[j] ?? 0) + (X.data[i * d + j] ?? 0);
    }
    yMean /= n;
    for (let j = 0; j < d; j++) xMean[j] = (xMean[j] ?? 0) / n;
  }
  const centred = new Float64Array(n * d);
  const xty = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const yc = (y[i] ?? 0) - yMean;
    for (let j = 0; j < d; j++) {
      const v = (X.data[i * d + j] ?? 0) - (xMean[j] ?? 0);
      centred[i * d + j] = v;
      xty[j] = (xty[j] ?? 0) + v * yc;
    }
  }
  const gram = weightedGram({ rows: n, cols: d, data: centred }, null, false);
  let meanDiag = 0;
  for (let j = 0; j < d; j++) {
    gram.data[j * d + j] = (gram.data[j * d + j] ?? 0) + alpha;
    meanDiag += (gram.data[j * d + j] ?? 0) / d;
  }

  let w = solveSpd(gram, xty);
  for (let ridge = 1e-10 * (meanDiag || 1); !w && ridge < 1e10 * (meanDiag || 1); ridge *= 10) {
    const a = Float64Array.from(gram.data);
    for (let j = 0; j < d; j++) a[j * d + j] = (a[j * d + j] ?? 0) + ridge;
    w = solveSpd({ rows: d, cols: d, data: a }, xty);
  }
  if (!w)
    throw new StewardError('BAD_REQUEST', 'linear regression: the features are degenerate (all constant?)');

  let intercept = yMean;
  for (let j = 0; j < d; j++) intercept -= (xMean[j] ?? 0) * (w[j] ?? 0);
  return new LinearModel(w, fitIntercept ? intercept : 0);
}
