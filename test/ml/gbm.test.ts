import { describe, expect, it } from 'vitest';
import { fitGbmClassifier, fitGbmRegressor, GbmClassifier, GbmRegressor } from '../../src/stages/ml/gbm.ts';
import { fromRows, matrix } from '../../src/stages/ml/matrix.ts';
import { accuracy, rmse, rocAucOvr } from '../../src/stages/ml/metrics.ts';
import { createRng } from '../../src/stages/ml/random.ts';
import { leafOf } from '../../src/stages/ml/tree.ts';
import { roundTrip, sameBits, trainTest } from './helpers.ts';
import { baselineAccuracy, baselineRmse, makeClassification, makeRegression } from './synthetic.ts';

const steps = fromRows([[1], [2], [3], [4], [5], [6]]);
const stump = { maxIter: 1, learningRate: 1, minSamplesLeaf: 1, maxLeafNodes: 2 };

describe('gradient boosting: known values', () => {
  it('one round of squared error is the baseline mean plus the best stump', () => {
    // Baseline ȳ = 5; the split at 3.5 leaves residuals -5 and +5, fitted exactly.
    const model = fitGbmRegressor(steps, [0, 0, 0, 10, 10, 10], stump);
    expect(Array.from(model.ensemble.baseline)).toEqual([5]);
    expect(Array.from(model.ensemble.trees[0]?.threshold ?? [])).toEqual([3.5]);
    expect(Array.from(model.predict(steps))).toEqual([0, 0, 0, 10, 10, 10]);
  });

  it('L2 on leaves shrinks a leaf to -G / (H + λ)', () => {
    // Left leaf: G = Σ(5 - 0) = 15, H = 3; with λ = 3 the value is -15/6 = -2.5.
    const model = fitGbmRegressor(steps, [0, 0, 0, 10, 10, 10], { ...stump, l2: 3 });
    expect(Array.from(model.predict(steps))).toEqual([2.5, 2.5, 2.5, 7.5, 7.5, 7.5]);
  });

  it('learning rate scales every leaf', () => {
    const model = fitGbmRegressor(steps, [0, 0, 0, 10, 10, 10], { ...stump, learningRate: 0.1 });
    expect(model.predict(steps)[0]).toBeCloseTo(4.5, 12);
  });

  it('with no rounds a classifier predicts the class prior', () => {
    const model = fitGbmClassifier(steps, [0, 1, 1, 1, 0, 1], { maxIter: 0 });
    const proba = model.predictProba(fromRows([[0]]));
    expect(proba.data[1]).toBeCloseTo(4 / 6, 12);
    const multi = fitGbmClassifier(steps, [0, 1, 2, 2, 2, 2], { maxIter: 0 });
    expect(Array.from(multi.predictProba(fromRows([[0]])).data).map((p) => Number(p.toFixed(12)))).toEqual([
      Number((1 / 6).toFixed(12)),
      Number((1 / 6).toFixed(12)),
      Number((4 / 6).toFixed(12)),
    ]);
  });

  it('one round of log loss takes a Newton step: leaf -G/H from the prior', () => {
    // Prior p = 0.5; the y = 0 leaf has G = 3·0.5, H = 3·0.25, value -2 → P(1) = σ(-2).
    const model = fitGbmClassifier(steps, [0, 0, 0, 1, 1, 1], stump);
    const proba = model.predictProba(steps);
    expect(proba.data[1]).toBeCloseTo(1 / (1 + Math.exp(2)), 12);
    expect(proba.data[11]).toBeCloseTo(1 / (1 + Math.exp(-2)), 12);
    expect(Array.from(model.predict(steps))).toEqual([0, 0, 0, 1, 1, 1]);
  });
});

describe('gradient boosting: limits', () => {
  const { X, y } = makeRegression(600, 5, 4);

  it('respects maxDepth and maxLeafNodes', () => {
    const stumps = fitGbmRegressor(X, y, { maxIter: 5, maxDepth: 1 });
    for (const tree of stumps.ensemble.trees) expect(tree.feature.length).toBe(1);
    const small = fitGbmRegressor(X, y, { maxIter: 5, maxLeafNodes: 4 });
    for (const tree of small.ensemble.trees) expect(tree.values.length).toBe(4);
  });

  it('respects minSamplesLeaf', () => {
    const model = fitGbmRegressor(X, y, { maxIter: 5, minSamplesLeaf: 50 });
    for (const tree of model.ensemble.trees) {
      const counts = new Map<number, number>();
      for (let i = 0; i < X.rows; i++) {
        const leaf = leafOf(tree, X.data, i * X.cols);
        counts.set(leaf, (counts.get(leaf) ?? 0) + 1);
      }
      for (const c of counts.values()) expect(c).toBeGreaterThanOrEqual(50);
    }
  });

  it('stops early on a target it cannot learn', () => {
    const rng = createRng(8);
    const noise = Float64Array.from({ length: 1000 }, () => rng.normal());
    const model = fitGbmRegressor(
      matrix(
        1000,
        3,
        Float64Array.from({ length: 3000 }, () => rng.normal()),
      ),
      noise,
      {
        maxIter: 200,
        earlyStopping: true,
      },
    );
    expect(model.iterations).toBeLessThan(60);
  });

  it('is deterministic for a seed', () => {
    const a = fitGbmClassifier(
      X,
      Float64Array.from(y, (v) => (v > 0 ? 1 : 0)),
      { maxIter: 10, earlyStopping: true },
    );
    const b = fitGbmClassifier(
      X,
      Float64Array.from(y, (v) => (v > 0 ? 1 : 0)),
      { maxIter: 10, earlyStopping: true },
    );
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('rejects bad parameters in one message', () => {
    expect(() => fitGbmRegressor(X, y, { maxIter: -1, learningRate: 0 })).toThrow(
      /maxIter must be an integer ≥ 0; learningRate must be > 0/,
    );
  });
});

describe('gradient boosting: beats a constant baseline', () => {
  it('regression', () => {
    const { train, test } = trainTest(makeRegression(2000, 8, 1));
    const model = fitGbmRegressor(train.X, train.y);
    expect(rmse(test.y, model.predict(test.X))).toBeLessThan(0.35 * baselineRmse(test.y));
  });

  it('binary classification', () => {
    const { train, test } = trainTest(makeClassification(2000, 10, 1, { informative: 4 }));
    const model = fitGbmClassifier(train.X, train.y);
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(baselineAccuracy(test.y) + 0.3);
    expect(rocAucOvr(test.y, model.predictProba(test.X), model.classes)).toBeGreaterThan(0.9);
  });

  it('multi-class classification', () => {
    const { train, test } = trainTest(makeClassification(2000, 10, 2, { classes: 3, informative: 4 }));
    const model = fitGbmClassifier(train.X, train.y, { maxIter: 50 });
    expect(model.ensemble.trees.length).toBe(150);
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(baselineAccuracy(test.y) + 0.35);
  });
});

describe('gradient boosting: serialisation', () => {
  it('predicts identically after a JSON round trip', () => {
    const { train, test } = trainTest(makeClassification(500, 6, 3, { classes: 3, informative: 3 }));
    const classifier = fitGbmClassifier(train.X, train.y, { maxIter: 20 });
    const loadedClassifier = GbmClassifier.fromJSON(roundTrip(classifier));
    expect(sameBits(loadedClassifier.predictProba(test.X).data, classifier.predictProba(test.X).data)).toBe(
      true,
    );

    const regressor = fitGbmRegressor(train.X, train.y, { maxIter: 20 });
    const loadedRegressor = GbmRegressor.fromJSON(roundTrip(regressor));
    expect(sameBits(loadedRegressor.predict(test.X), regressor.predict(test.X))).toBe(true);
  });
});
