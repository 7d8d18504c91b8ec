import { describe, expect, it } from 'vitest';
import {
  ForestClassifier,
  ForestRegressor,
  fitForestClassifier,
  fitForestRegressor,
} from '../../src/stages/ml/forest.ts';
import { fromRows } from '../../src/stages/ml/matrix.ts';
import { accuracy, rmse, rocAucOvr } from '../../src/stages/ml/metrics.ts';
import { roundTrip, sameBits, trainTest } from './helpers.ts';
import { baselineAccuracy, baselineRmse, makeClassification, makeRegression } from './synthetic.ts';

const exact = { nEstimators: 1, bootstrap: false, maxFeatures: 'all' } as const;

describe('random forest: known values', () => {
  it('a fully grown tree on all rows reproduces distinct training targets', () => {
    const X = fromRows([
      [1, 5],
      [2, 3],
      [3, 8],
      [4, 1],
      [5, 9],
      [6, 2],
    ]);
    const y = [3.5, -1, 7, 2, 2, 10];
    expect(Array.from(fitForestRegressor(X, y, exact).predict(X))).toEqual(y);
  });

  it('a stump splits where the Gini impurity drops most', () => {
    // Only x ≤ 3.5 separates the classes perfectly.
    const X = fromRows([[1], [2], [3], [4], [5], [6]]);
    const model = fitForestClassifier(X, [0, 0, 0, 1, 1, 1], { ...exact, maxDepth: 1 });
    expect(Array.from(model.trees[0]?.threshold ?? [])).toEqual([3.5]);
    expect(Array.from(model.predictProba(fromRows([[3], [4]])).data)).toEqual([1, 0, 0, 1]);
  });

  it('leaves hold class frequencies and the forest averages them', () => {
    // A depth-0 forest is its root: P(class 1) = 2/3 for every row.
    const X = fromRows([[1], [2], [3]]);
    const model = fitForestClassifier(X, [1, 1, 0], {
      ...exact,
      nEstimators: 3,
      maxDepth: 1,
      minSamplesLeaf: 2,
    });
    expect(Array.from(model.predictProba(fromRows([[0]])).data)).toEqual([1 / 3, 2 / 3]);
  });

  it('respects minSamplesLeaf', () => {
    const X = fromRows([[1], [2], [3], [4], [5], [6]]);
    const model = fitForestRegressor(X, [1, 2, 3, 4, 5, 6], { ...exact, minSamplesLeaf: 3 });
    expect(Array.from(model.predict(X))).toEqual([2, 2, 2, 5, 5, 5]);
  });

  it('still fits fine detail on top of a large offset in the target', () => {
    // Split scores are sums of squares; without centring, 1e9² would swamp differences of 1.
    const { X, y } = makeRegression(300, 4, 6);
    const shifted = y.map((v) => v + 1e9);
    const fitted = fitForestRegressor(X, shifted, exact).predict(X);
    fitted.forEach((v, i) => {
      expect(v - 1e9).toBeCloseTo((shifted[i] ?? 0) - 1e9, 5);
    });
  });

  it('is deterministic for a seed and varies with it', () => {
    const { X, y } = makeClassification(300, 5, 7);
    const a = fitForestClassifier(X, y, { nEstimators: 5, seed: 3 });
    const b = fitForestClassifier(X, y, { nEstimators: 5, seed: 3 });
    const c = fitForestClassifier(X, y, { nEstimators: 5, seed: 4 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
  });
});

describe('random forest: beats a constant baseline', () => {
  it('classification', () => {
    const { train, test } = trainTest(makeClassification(2000, 10, 1, { informative: 4 }));
    const model = fitForestClassifier(train.X, train.y, { nEstimators: 50 });
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(baselineAccuracy(test.y) + 0.3);
    expect(rocAucOvr(test.y, model.predictProba(test.X), model.classes)).toBeGreaterThan(0.9);
  });

  it('regression', () => {
    const { train, test } = trainTest(makeRegression(2000, 8, 1));
    const model = fitForestRegressor(train.X, train.y, { nEstimators: 30, maxFeatures: 'third' });
    expect(rmse(test.y, model.predict(test.X))).toBeLessThan(0.6 * baselineRmse(test.y));
  });
});

describe('random forest: serialisation', () => {
  it('predicts identically after a JSON round trip', () => {
    const { train, test } = trainTest(makeClassification(400, 5, 3, { classes: 3, informative: 3 }));
    const classifier = fitForestClassifier(train.X, train.y, { nEstimators: 10 });
    const loadedClassifier = ForestClassifier.fromJSON(roundTrip(classifier));
    expect(sameBits(loadedClassifier.predictProba(test.X).data, classifier.predictProba(test.X).data)).toBe(
      true,
    );

    const regressor = fitForestRegressor(train.X, train.y, { nEstimators: 10 });
    const loadedRegressor = ForestRegressor.fromJSON(roundTrip(regressor));
    expect(sameBits(loadedRegressor.predict(test.X), regressor.predict(test.X))).toBe(true);
  });
});
