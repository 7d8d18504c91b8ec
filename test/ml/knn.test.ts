import { describe, expect, it } from 'vitest';
import { fitKnnClassifier, fitKnnRegressor, KnnClassifier, KnnRegressor } from '../../src/stages/ml/knn.ts';
import { fromRows } from '../../src/stages/ml/matrix.ts';
import { accuracy, rmse } from '../../src/stages/ml/metrics.ts';
import { roundTrip, sameBits, trainTest } from './helpers.ts';
import { baselineAccuracy, baselineRmse, makeClassification, makeRegression } from './synthetic.ts';

const line = fromRows([[0], [1], [2], [3], [10], [11]]);

describe('k-nearest neighbours: known values', () => {
  it('classifies by the share of each class among the k nearest', () => {
    const model = fitKnnClassifier(line, [0, 0, 1, 1, 1, 1], { k: 3 });
    // 1.4 → rows at 1, 2, 0 (labels 0, 1, 0); 2.6 → rows at 3, 2, 1 (1, 1, 0).
    const proba = model.predictProba(fromRows([[1.4], [2.6]]));
    expect(Array.from(proba.data)).toEqual([2 / 3, 1 / 3, 1 / 3, 2 / 3]);
    expect(Array.from(model.predict(fromRows([[1.4], [2.6], [50]])))).toEqual([0, 1, 1]);
  });

  it('regresses to the mean of the k nearest targets', () => {
    const model = fitKnnRegressor(line, [1, 2, 3, 4, 5, 6], { k: 2 });
    expect(Array.from(model.predict(fromRows([[0.2], [10.4], [2.5]])))).toEqual([1.5, 5.5, 3.5]);
  });

  it('weights by inverse distance, and an exact match takes all the weight', () => {
    const model = fitKnnRegressor(line, [1, 2, 3, 4, 5, 6], { k: 2, weights: 'distance' });
    // 1.25: rows at 1 (d = 0.25, w = 4) and 2 (d = 0.75, w = 4/3) → (4·2 + 4/3·3) / (16/3) = 2.25.
    expect(model.predict(fromRows([[1.25]]))[0]).toBeCloseTo(2.25, 12);
    expect(Array.from(model.predict(fromRows([[3]])))).toEqual([4]);
  });

  it('breaks distance ties by training order', () => {
    const X = fromRows([[1], [1], [1], [1]]);
    const model = fitKnnRegressor(X, [10, 20, 30, 40], { k: 2 });
    expect(Array.from(model.predict(fromRows([[1]])))).toEqual([15]);
  });

  it('standardises features on request, so a large-scale noise feature stops dominating', () => {
    // Feature 0 decides the class; feature 1 is noise measured in thousands.
    const X = fromRows([
      [0, 0],
      [0, 3000],
      [1, 1000],
      [1, 4000],
    ]);
    const y = [0, 0, 1, 1];
    const query = fromRows([[1, 0]]);
    expect(Array.from(fitKnnClassifier(X, y, { k: 1 }).predict(query))).toEqual([0]);
    expect(Array.from(fitKnnClassifier(X, y, { k: 1, standardize: true }).predict(query))).toEqual([1]);
  });

  it('rejects k larger than the training set', () => {
    expect(() => fitKnnRegressor(line, [1, 2, 3, 4, 5, 6], { k: 7 })).toThrow(
      /k must be an integer between 1 and the 6/,
    );
  });
});

describe('k-nearest neighbours: beats a constant baseline', () => {
  it('classification', () => {
    const { train, test } = trainTest(makeClassification(2000, 6, 1, { informative: 4, redundant: 0 }));
    const model = fitKnnClassifier(train.X, train.y, { k: 15 });
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(baselineAccuracy(test.y) + 0.25);
  });

  it('regression', () => {
    const { train, test } = trainTest(makeRegression(2000, 5, 1));
    const model = fitKnnRegressor(train.X, train.y, { k: 10, weights: 'distance' });
    expect(rmse(test.y, model.predict(test.X))).toBeLessThan(0.6 * baselineRmse(test.y));
  });
});

describe('k-nearest neighbours: serialisation', () => {
  it('predicts identically after a JSON round trip', () => {
    const { train, test } = trainTest(
      makeClassification(300, 4, 3, { classes: 3, informative: 3, redundant: 0 }),
    );
    const classifier = fitKnnClassifier(train.X, train.y, { k: 7, weights: 'distance', standardize: true });
    const loaded = KnnClassifier.fromJSON(roundTrip(classifier));
    expect(sameBits(loaded.predictProba(test.X).data, classifier.predictProba(test.X).data)).toBe(true);

    const regressor = fitKnnRegressor(train.X, train.y, { k: 3 });
    const loadedRegressor = KnnRegressor.fromJSON(roundTrip(regressor));
    expect(sameBits(loadedRegressor.predict(test.X), regressor.predict(test.X))).toBe(true);
  });
});
