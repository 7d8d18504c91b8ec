import { describe, expect, it } from 'vitest';
import { fitLogistic, LogisticModel } from '../../src/stages/ml/logistic.ts';
import { fromRows, type Matrix } from '../../src/stages/ml/matrix.ts';
import { accuracy, rocAucOvr } from '../../src/stages/ml/metrics.ts';
import { roundTrip, sameBits, trainTest } from './helpers.ts';
import { baselineAccuracy, makeClassification } from './synthetic.ts';

/**
 * ∇ of scikit-learn's objective C·Σ log-loss + ½‖W‖² at the fitted model, per score
 * row: zero at the optimum, whatever the data.
 */
function gradient(model: LogisticModel, X: Matrix, y: number[], C: number): number[][] {
  const proba = model.predictProba(X);
  const k = model.classes.length;
  const scores = model.coefficients.rows;
  return Array.from({ length: scores }, (_, s) => {
    const c = scores === 1 ? 1 : s;
    const g = new Array<number>(X.cols + 1).fill(0);
    for (let i = 0; i < X.rows; i++) {
      const r = (proba.data[i * k + c] ?? 0) - (y[i] === model.classes[c] ? 1 : 0);
      for (let j = 0; j < X.cols; j++) g[j] = (g[j] ?? 0) + C * r * (X.data[i * X.cols + j] ?? 0);
      g[X.cols] = (g[X.cols] ?? 0) + C * r;
    }
    for (let j = 0; j < X.cols; j++) g[j] = (g[j] ?? 0) + (model.coefficients.data[s * X.cols + j] ?? 0);
    return g;
  });
}

describe('logistic regression', () => {
  it('recovers the unpenalised maximum-likelihood fit of a 2×2 table', () => {
    // x = 0: 1 positive of 4 → intercept logit(1/4) = -ln 3; x = 1: 3 of 4 → slope 2 ln 3.
    const X = fromRows([[0], [0], [0], [0], [1], [1], [1], [1]]);
    const y = [1, 0, 0, 0, 1, 1, 1, 0];
    const model = fitLogistic(X, y, { C: 1e10, tol: 1e-10 });
    expect(model.intercepts[0]).toBeCloseTo(-Math.log(3), 6);
    expect(model.coefficients.data[0]).toBeCloseTo(2 * Math.log(3), 6);
    expect(model.fit.converged).toBe(true);
  });

  it('reaches the optimum of the penalised objective (gradient zero) with C = 1', () => {
    const X = fromRows([
      [0.5, 1.2],
      [1.5, -0.3],
      [-0.7, 0.8],
      [2.2, 1.1],
      [-1.4, -2.0],
      [0.3, 0.1],
      [1.1, -1.5],
      [-0.2, 0.9],
    ]);
    const y = [1, 1, 0, 1, 0, 0, 1, 0];
    const model = fitLogistic(X, y);
    for (const g of gradient(model, X, y, 1)) for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-5);
    // The penalty keeps the weights finite even though this data is nearly separable.
    expect(Math.abs(model.coefficients.data[0] ?? 0)).toBeLessThan(5);
  });

  it('multinomial: a saturated model reproduces each group’s class frequencies', () => {
    // Groups A, B, C (one-hot for B and C) with class counts (2,1,1), (1,2,1), (1,1,2).
    const groups: [number[], number[]][] = [
      [
        [0, 0],
        [0, 0, 1, 2],
      ],
      [
        [1, 0],
        [0, 1, 1, 2],
      ],
      [
        [0, 1],
        [0, 1, 2, 2],
      ],
    ];
    const rows: number[][] = [];
    const y: number[] = [];
    for (const [x, labels] of groups) {
      for (const label of labels) {
        rows.push(x);
        y.push(label);
      }
    }
    const model = fitLogistic(fromRows(rows), y, { C: 1e8 });
    const proba = model.predictProba(fromRows(groups.map(([x]) => x)));
    const expected = [
      [0.5, 0.25, 0.25],
      [0.25, 0.5, 0.25],
      [0.25, 0.25, 0.5],
    ];
    expected.flat().forEach((p, q) => {
      expect(proba.data[q]).toBeCloseTo(p, 5);
    });
  });

  it('multinomial: gradient zero at C = 1, and probabilities sum to one', () => {
    const { X, y } = makeClassification(300, 4, 5, { classes: 3, informative: 3, redundant: 0 });
    const labels = Array.from(y);
    const model = fitLogistic(X, labels);
    expect(model.coefficients.rows).toBe(3);
    for (const g of gradient(model, X, labels, 1)) for (const v of g) expect(Math.abs(v)).toBeLessThan(1e-3);
    const proba = model.predictProba(X);
    for (let i = 0; i < proba.rows; i++) {
      expect(
        (proba.data[3 * i] ?? 0) + (proba.data[3 * i + 1] ?? 0) + (proba.data[3 * i + 2] ?? 0),
      ).toBeCloseTo(1, 12);
    }
  });

  it('accepts any numeric labels and predicts them', () => {
    const X = fromRows([[-2], [-1], [1], [2]]);
    const model = fitLogistic(X, [7, 7, 3, 3]);
    expect(Array.from(model.classes)).toEqual([3, 7]);
    expect(Array.from(model.predict(X))).toEqual([7, 7, 3, 3]);
    expect(() => fitLogistic(X, [1, 1, 1, 1])).toThrow(/at least two classes/);
  });

  it('binary: beats the majority-class baseline by a clear margin', () => {
    const { train, test } = trainTest(makeClassification(2000, 10, 1, { informative: 4 }));
    const model = fitLogistic(train.X, train.y);
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(baselineAccuracy(test.y) + 0.15);
    expect(rocAucOvr(test.y, model.predictProba(test.X), model.classes)).toBeGreaterThan(0.8);
  });

  it('multi-class: beats the majority-class baseline by a clear margin', () => {
    const { train, test } = trainTest(makeClassification(2000, 10, 2, { classes: 3, informative: 4 }));
    const model = fitLogistic(train.X, train.y);
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(baselineAccuracy(test.y) + 0.2);
    expect(rocAucOvr(test.y, model.predictProba(test.X), model.classes)).toBeGreaterThan(0.75);
  });

  it('predicts identically after a JSON round trip', () => {
    for (const classes of [2, 4]) {
      const { train, test } = trainTest(makeClassification(400, 5, 3, { classes, informative: 3 }));
      const model = fitLogistic(train.X, train.y, { C: 0.5 });
      const loaded = LogisticModel.fromJSON(roundTrip(model));
      expect(sameBits(loaded.predictProba(test.X).data, model.predictProba(test.X).data)).toBe(true);
      expect(sameBits(loaded.predict(test.X), model.predict(test.X))).toBe(true);
    }
  });
});
