import { StewardError } from '../../errors.ts';
import type { Matrix } from './matrix.ts';

/**
 * Input checks shared by every model. Training data comes from users' files, so a NaN, a
 * ragged matrix or a label vector of the wrong length is a data problem to report in words,
 * not a crash deep inside a solver; the messages name the offending row and column.
 * Missing values are not supported by the numeric core: impute or drop them first.
 */
export function checkMatrix(X: Matrix, what = 'X'): void {
  if (X.data.length !== X.rows * X.cols) {
    throw new StewardError(
      'BAD_REQUEST',
      `${what} claims ${X.rows}×${X.cols} but holds ${X.data.length} values`,
    );
  }
  const data = X.data;
  for (let k = 0; k < data.length; k++) {
    if (!Number.isFinite(data[k] ?? Number.NaN)) {
      const i = Math.floor(k / X.cols);
      throw new StewardError(
        'BAD_REQUEST',
        `${what} has a missing or infinite value at row ${i}, column ${k - i * X.cols}: impute or drop it first`,
      );
    }
  }
}

/** Checks a training set: X well formed, y finite and one value per row, at least one row. */
export function checkTraining(X: Matrix, y: ArrayLike<number>): void {
  checkMatrix(X);
  if (X.rows === 0) throw new StewardError('BAD_REQUEST', 'cannot fit a model on zero rows');
  if (y.length !== X.rows) {
    throw new StewardError('BAD_REQUEST', `X has ${X.rows} rows but y has ${y.length} values`);
  }
  for (let i = 0; i < y.length; i++) {
    if (!Number.isFinite(y[i] ?? Number.NaN)) {
      throw new StewardError('BAD_REQUEST', `y has a missing or infinite value at row ${i}`);
    }
  }
}

/** Checks a prediction input against the number of features the model was fitted on. */
export function checkPredict(X: Matrix, nFeatures: number): void {
  if (X.cols !== nFeatures) {
    throw new StewardError('BAD_REQUEST', `the model was fitted on ${nFeatures} features but got ${X.cols}`);
  }
  checkMatrix(X);
}
