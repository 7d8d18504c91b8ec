import { StewardError } from '../../errors.ts';
import { codesOf } from './labels.ts';
import type { Matrix } from './matrix.ts';

/**
 * Evaluation metrics with scikit-learn's definitions, so numbers Steward reports in chat
 * can be compared with a data scientist's notebook. Where scikit-learn would warn and
 * return 0 (precision with no predicted positives, say), these return 0 too; where a
 * metric is undefined (AUC with one class present) they return NaN for the caller to show
 * as "n/a" rather than failing a whole evaluation.
 */

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) {
    throw new StewardError('BAD_REQUEST', `${what}: ${a.length} true values but ${b.length} predictions`);
  }
  if (a.length === 0) throw new StewardError('BAD_REQUEST', `${what}: no rows to score`);
}

/** Fraction of rows where the predicted label equals the true one. */
export function accuracy(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  sameLength(yTrue, yPred, 'accuracy');
  let hits = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hits++;
  return hits / yTrue.length;
}

export type ConfusionMatrix = {
  /** Labels in row/column order (ascending, the union of true and predicted unless given). */
  labels: Float64Array;
  /** counts[t][p]: rows whose true label is labels[t] and predicted label is labels[p]. */
  counts: number[][];
};

/** Counts of (true, predicted) label pairs, laid out as scikit-learn's `confusion_matrix`. */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  labels?: ArrayLike<number>,
): ConfusionMatrix {
  sameLength(yTrue, yPred, 'confusionMatrix');
  const order = labels
    ? Float64Array.from(labels)
    : Float64Array.from(new Set([...Array.from(yTrue), ...Array.from(yPred)])).sort();
  const t = codesOf(yTrue, order);
  const p = codesOf(yPred, order);
  const counts = Array.from(order, () => new Array<number>(order.length).fill(0));
  for (let i = 0; i < t.length; i++) {
    const r = counts[t[i] ?? 0];
    const c = p[i] ?? 0;
    if (r) r[c] = (r[c] ?? 0) + 1;
  }
  return { labels: order, counts };
}

export type PrecisionRecallF1 = { precision: number; recall: number; f1: number };

export type AverageOptions = {
  /**
   * 'binary' scores only `positive`; 'macro' averages the per-class scores with equal
   * weight. Default: 'binary' when at most two labels occur, otherwise 'macro'.
   */
  average?: 'binary' | 'macro';
  /** The positive label for 'binary'. Default: the larger label (1 for 0/1 data). */
  positive?: number;
};

/** Precision, recall and F1; zero where a ratio's denominator is zero, as in scikit-learn. */
export function precisionRecallF1(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  options: AverageOptions = {},
): PrecisionRecallF1 {
  const { labels, counts } = confusionMatrix(yTrue, yPred);
  const average = options.average ?? (labels.length <= 2 ? 'binary' : 'macro');
  const k = labels.length;
  const scores = (c: number): PrecisionRecallF1 => {
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < k; j++) {
      predicted += counts[j]?.[c] ?? 0;
      actual += counts[c]?.[j] ?? 0;
    }
    const tp = counts[c]?.[c] ?? 0;
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = actual > 0 ? tp / actual : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1 };
  };
  if (average === 'binary') {
    if (k > 2) {
      throw new StewardError('BAD_REQUEST', `binary scores need at most two labels, found ${k}; use macro`);
    }
    const positive = options.positive ?? labels[k - 1] ?? 1;
    const c = labels.indexOf(positive);
    return c < 0 ? { precision: 0, recall: 0, f1: 0 } : scores(c);
  }
  const sum = { precision: 0, recall: 0, f1: 0 };
  for (let c = 0; c < k; c++) {
    const s = scores(c);
    sum.precision += s.precision;
    sum.recall += s.recall;
    sum.f1 += s.f1;
  }
  return { precision: sum.precision / k, recall: sum.recall / k, f1: sum.f1 / k };
}

/**
 * Area under the ROC curve for a binary problem, via the Mann–Whitney rank statistic:
 * the probability that a random positive scores above a random negative, counting ties
 * as one half (tied scores get their average rank). NaN if either class is absent.
 */
export function rocAuc(yTrue: ArrayLike<number>, scores: ArrayLike<number>, positive = 1): number {
  sameLength(yTrue, scores, 'rocAuc');
  const n = yTrue.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => (scores[a] ?? 0) - (scores[b] ?? 0));
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < n; ) {
    const value = scores[order[start] ?? 0];
    let end = start + 1;
    while (end < n && scores[order[end] ?? 0] === value) end++;
    // Ranks start+1..end share their mean.
    const meanRank = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) {
      if (yTrue[order[k] ?? 0] === positive) {
        positives++;
        rankSum += meanRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * ROC AUC for any number of classes from a probability matrix (columns in `classes`
 * order). Two classes: the binary AUC of the second column. More: the unweighted mean of
 * one-vs-rest AUCs, scikit-learn's `multi_class='ovr', average='macro'`.
 */
export function rocAucOvr(yTrue: ArrayLike<number>, proba: Matrix, classes: Float64Array): number {
  if (proba.cols !== classes.length) {
    throw new StewardError(
      'BAD_REQUEST',
      `rocAuc: ${proba.cols} probability columns for ${classes.length} classes`,
    );
  }
  const column = (k: number): Float64Array => {
    const out = new Float64Array(proba.rows);
    for (let i = 0; i < proba.rows; i++) out[i] = proba.data[i * proba.cols + k] ?? 0;
    return out;
  };
  if (classes.length === 2) return rocAuc(yTrue, column(1), classes[1]);
  let sum = 0;
  for (let k = 0; k < classes.length; k++) sum += rocAuc(yTrue, column(k), classes[k]);
  return sum / classes.length;
}

/**
 * Mean negative log-likelihood of the true labels. Probabilities are clipped to
 * [eps, 1 - eps] and each row renormalised, as scikit-learn 1.2 does, so a confident
 * wrong prediction costs a large but finite amount.
 */
export function logLoss(yTrue: ArrayLike<number>, proba: Matrix, classes: Float64Array, eps = 1e-15): number {
  if (proba.rows !== yTrue.length || proba.cols !== classes.length) {
    throw new StewardError(
      'BAD_REQUEST',
      `logLoss: probabilities are ${proba.rows}×${proba.cols} for ${yTrue.length} rows and ${classes.length} classes`,
    );
  }
  const codes = codesOf(yTrue, classes);
  const { rows, cols, data } = proba;
  let total = 0;
  for (let i = 0; i < rows; i++) {
    let rowSum = 0;
    for (let k = 0; k < cols; k++) rowSum += Math.min(Math.max(data[i * cols + k] ?? 0, eps), 1 - eps);
    const p = Math.min(Math.max(data[i * cols + (codes[i] ?? 0)] ?? 0, eps), 1 - eps) / rowSum;
    total -= Math.log(p);
  }
  return total / rows;
}

/** Root mean squared error. */
export function rmse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  sameLength(yTrue, yPred, 'rmse');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += ((yTrue[i] ?? 0) - (yPred[i] ?? 0)) ** 2;
  return Math.sqrt(sum / yTrue.length);
}

/** Mean absolute error. */
export function mae(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  sameLength(yTrue, yPred, 'mae');
  let sum = 0;
  for (let i = 0; i < yTrue.length; i++) sum += Math.abs((yTrue[i] ?? 0) - (yPred[i] ?? 0));
  return sum / yTrue.length;
}

/**
 * Coefficient of determination, 1 - SS_res / SS_tot. For a constant target (SS_tot = 0)
 * it is 1 for a perfect prediction and 0 otherwise, as scikit-learn reports it.
 */
export function r2(yTrue: ArrayLike<number>, yPred: ArrayLike<number>): number {
  sameLength(yTrue, yPred, 'r2');
  const n = yTrue.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += yTrue[i] ?? 0;
  mean /= n;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < n; i++) {
    res += ((yTrue[i] ?? 0) - (yPred[i] ?? 0)) ** 2;
    tot += ((yTrue[i] ?? 0) - mean) ** 2;
  }
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}
