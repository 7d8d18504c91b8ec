import { describe, expect, it } from 'vitest';
import { fromRows } from '../../src/stages/ml/matrix.ts';
import {
  accuracy,
  confusionMatrix,
  logLoss,
  mae,
  precisionRecallF1,
  r2,
  rmse,
  rocAuc,
  rocAucOvr,
} from '../../src/stages/ml/metrics.ts';

// Expected values are worked by hand; several are the examples in scikit-learn's docs.
describe('classification metrics', () => {
  it('accuracy', () => {
    expect(accuracy([0, 1, 2, 3], [0, 2, 1, 3])).toBe(0.5);
  });

  it('confusion matrix, rows true and columns predicted', () => {
    const { labels, counts } = confusionMatrix([2, 0, 2, 2, 0, 1], [0, 0, 2, 2, 0, 2]);
    expect(Array.from(labels)).toEqual([0, 1, 2]);
    expect(counts).toEqual([
      [2, 0, 0],
      [0, 0, 1],
      [1, 0, 2],
    ]);
  });

  it('binary precision, recall and F1 of the positive class', () => {
    // tp = 2, fp = 1, fn = 2 → precision 2/3, recall 1/2, F1 = 4/7.
    const s = precisionRecallF1([1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0]);
    expect(s.precision).toBeCloseTo(2 / 3, 12);
    expect(s.recall).toBeCloseTo(1 / 2, 12);
    expect(s.f1).toBeCloseTo(4 / 7, 12);
    // The other class as positive: tp = 1, fp = 2, fn = 1.
    const other = precisionRecallF1([1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 1, 0], { positive: 0 });
    expect(other.precision).toBeCloseTo(1 / 3, 12);
    expect(other.recall).toBeCloseTo(1 / 2, 12);
  });

  it('macro averages for three classes (scikit-learn docs example)', () => {
    const s = precisionRecallF1([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]);
    // Per class precision (2/3, 0, 0), recall (1, 0, 0), F1 (0.8, 0, 0).
    expect(s.precision).toBeCloseTo(2 / 9, 12);
    expect(s.recall).toBeCloseTo(1 / 3, 12);
    expect(s.f1).toBeCloseTo(0.8 / 3, 12);
  });

  it('scores 0, not NaN, when nothing is predicted positive', () => {
    expect(precisionRecallF1([1, 0, 1], [0, 0, 0])).toEqual({ precision: 0, recall: 0, f1: 0 });
  });

  it('ROC AUC as the fraction of correctly ordered positive/negative pairs', () => {
    // scikit-learn docs: 3 of 4 pairs ordered correctly.
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    expect(rocAuc([0, 0, 1, 1], [1, 2, 3, 4])).toBe(1);
    expect(rocAuc([1, 1, 0, 0], [1, 2, 3, 4])).toBe(0);
  });

  it('ROC AUC counts ties as half a pair', () => {
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
    // Pairs (neg, pos): (0.2,0.5) ✓, (0.2,0.2) ½, (0.5,0.5) ½, (0.5,0.2) ✗ → 2/4.
    expect(rocAuc([0, 1, 0, 1], [0.2, 0.5, 0.5, 0.2])).toBe(0.5);
    // neg {0.1, 0.3}, pos {0.3, 0.9}: ✓, ½, ✓, ✓ → 3.5/4.
    expect(rocAuc([0, 1, 0, 1], [0.1, 0.3, 0.3, 0.9])).toBe(0.875);
  });

  it('ROC AUC is NaN with a single class', () => {
    expect(rocAuc([1, 1, 1], [0.1, 0.2, 0.3])).toBeNaN();
  });

  it('one-vs-rest macro AUC for three classes', () => {
    const y = [0, 1, 2, 0, 1, 2];
    const proba = fromRows([
      [0.8, 0.1, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.2, 0.7],
      [0.3, 0.5, 0.2],
      [0.6, 0.3, 0.1],
      [0.2, 0.2, 0.6],
    ]);
    // Class 0 vs rest: positives {0.8, 0.3} vs {0.2, 0.1, 0.6, 0.2}: 4 + 3 = 7 of 8 pairs.
    // Class 1: positives {0.7, 0.3} vs {0.1, 0.2, 0.5, 0.2}: 4 + (1 + 0 + 1 + 1) = 7 of 8.
    // Class 2: positives {0.7, 0.6} vs {0.1, 0.1, 0.2, 0.1}: 8 of 8.
    expect(rocAucOvr(y, proba, Float64Array.of(0, 1, 2))).toBeCloseTo((7 / 8 + 7 / 8 + 1) / 3, 12);
    const binary = fromRows([
      [0.9, 0.1],
      [0.4, 0.6],
    ]);
    expect(rocAucOvr([0, 1], binary, Float64Array.of(0, 1))).toBe(1);
  });

  it('log loss by formula, with clipping', () => {
    // scikit-learn docs: ham = 0, spam = 1.
    const proba = fromRows([
      [0.1, 0.9],
      [0.9, 0.1],
      [0.8, 0.2],
      [0.35, 0.65],
    ]);
    const expected = -(Math.log(0.9) + Math.log(0.9) + Math.log(0.8) + Math.log(0.65)) / 4;
    expect(logLoss([1, 0, 0, 1], proba, Float64Array.of(0, 1))).toBeCloseTo(expected, 12);
    expect(expected).toBeCloseTo(0.21616, 5);
    // A certain, wrong prediction costs -log(1e-15), not Infinity.
    const wrong = logLoss([0], fromRows([[0, 1]]), Float64Array.of(0, 1));
    expect(wrong).toBeCloseTo(-Math.log(1e-15), 6);
  });
});

describe('regression metrics', () => {
  // scikit-learn docs example: y = [3, -0.5, 2, 7], ŷ = [2.5, 0, 2, 8].
  const y = [3, -0.5, 2, 7];
  const yHat = [2.5, 0, 2, 8];

  it('RMSE, MAE and R²', () => {
    expect(rmse(y, yHat)).toBeCloseTo(Math.sqrt(0.375), 12);
    expect(mae(y, yHat)).toBe(0.5);
    // SS_res = 1.5, SS_tot = 29.1875.
    expect(r2(y, yHat)).toBeCloseTo(1 - 1.5 / 29.1875, 12);
    expect(r2(y, yHat)).toBeCloseTo(0.9486, 4);
  });

  it('R² of a constant target is 1 if predicted exactly, else 0', () => {
    expect(r2([2, 2], [2, 2])).toBe(1);
    expect(r2([2, 2], [2, 3])).toBe(0);
  });

  it('rejects mismatched lengths', () => {
    expect(() => rmse([1, 2], [1])).toThrow(/2 true values but 1 predictions/);
  });
});
