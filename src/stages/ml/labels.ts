import { StewardError } from '../../errors.ts';
import type { Matrix } from './matrix.ts';

/**
 * Class labels are numbers (a stage encodes strings before training). Internally every
 * classifier works on codes 0..K-1 into the sorted list of distinct labels, the same order
 * scikit-learn uses for `classes_`, so probability column k always means `classes[k]`.
 */
export type EncodedLabels = {
  /** Distinct labels, ascending. */
  classes: Float64Array;
  /** For each row, the index of its label in `classes`. */
  codes: Int32Array;
};

/** Finds the distinct labels of `y` and codes each row. */
export function encodeLabels(y: ArrayLike<number>): EncodedLabels {
  const classes = Float64Array.from(new Set(Array.from(y))).sort();
  return { classes, codes: codesOf(y, classes) };
}

/** Codes `y` against known classes; throws if a label is not among them. */
export function codesOf(y: ArrayLike<number>, classes: Float64Array): Int32Array {
  const index = new Map<number, number>();
  classes.forEach((c, k) => {
    index.set(c, k);
  });
  const codes = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const code = index.get(y[i] ?? Number.NaN);
    if (code === undefined) {
      throw new StewardError('BAD_REQUEST', `label ${y[i]} at row ${i} is not one of ${Array.from(classes)}`);
    }
    codes[i] = code;
  }
  return codes;
}

/** Classifiers need two or more classes; one class means the target column is constant. */
export function requireClasses(classes: Float64Array): void {
  if (classes.length < 2) {
    throw new StewardError(
      'BAD_REQUEST',
      `classification needs at least two classes in y, found ${classes.length}: check the target column`,
    );
  }
}

/**
 * The most probable class of each row. Ties go to the lower class, as with argmax in
 * scikit-learn, so predictions do not depend on floating-point noise in the last place.
 */
export function labelsFromProba(proba: Matrix, classes: Float64Array): Float64Array {
  const { rows, cols, data } = proba;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bestP = data[i * cols] ?? 0;
    for (let k = 1; k < cols; k++) {
      const p = data[i * cols + k] ?? 0;
      if (p > bestP) {
        bestP = p;
        best = k;
      }
    }
    out[i] = classes[best] ?? 0;
  }
  return out;
}
