import { describe, expect, it } from 'vitest';
import { fitForestClassifier, fitForestRegressor } from '../../src/stages/ml/forest.ts';
import { fitGbmClassifier, fitGbmRegressor } from '../../src/stages/ml/gbm.ts';
import { fitKnnClassifier, fitKnnRegressor } from '../../src/stages/ml/knn.ts';
import { fitLinear } from '../../src/stages/ml/linear.ts';
import { loadModel } from '../../src/stages/ml/load.ts';
import { fitLogistic } from '../../src/stages/ml/logistic.ts';
import type { Model } from '../../src/stages/ml/model.ts';
import { roundTrip, sameBits, trainTest } from './helpers.ts';
import { makeClassification, makeRegression } from './synthetic.ts';

const classification = trainTest(makeClassification(400, 6, 21, { classes: 3, informative: 3 }));
const regression = trainTest(makeRegression(400, 6, 22));

const models: [string, () => Model][] = [
  ['linear', () => fitLinear(regression.train.X, regression.train.y, { alpha: 0.1 })],
  ['logistic', () => fitLogistic(classification.train.X, classification.train.y)],
  ['gbm regressor', () => fitGbmRegressor(regression.train.X, regression.train.y, { maxIter: 10 })],
  ['gbm classifier', () => fitGbmClassifier(classification.train.X, classification.train.y, { maxIter: 10 })],
  ['forest regressor', () => fitForestRegressor(regression.train.X, regression.train.y, { nEstimators: 5 })],
  [
    'forest classifier',
    () => fitForestClassifier(classification.train.X, classification.train.y, { nEstimators: 5 }),
  ],
  ['knn regressor', () => fitKnnRegressor(regression.train.X, regression.train.y)],
  [
    'knn classifier',
    () => fitKnnClassifier(classification.train.X, classification.train.y, { standardize: true }),
  ],
];

describe('saved models', () => {
  it.each(models)('%s: loadModel revives it with bit-identical predictions', (_, train) => {
    const model = train();
    const json = roundTrip(model);
    // Plain JSON: stringifying the parsed copy gives the same text.
    expect(JSON.stringify(json)).toBe(JSON.stringify(model));
    const loaded = loadModel(json);
    expect(loaded.kind).toBe(model.kind);
    expect(loaded.task).toBe(model.task);
    expect(loaded.nFeatures).toBe(model.nFeatures);
    const X = model.task === 'classification' ? classification.test.X : regression.test.X;
    expect(sameBits(loaded.predict(X), model.predict(X))).toBe(true);
    if (model.task === 'classification' && loaded.task === 'classification') {
      expect(Array.from(loaded.classes)).toEqual(Array.from(model.classes));
      expect(sameBits(loaded.predictProba(X).data, model.predictProba(X).data)).toBe(true);
    }
  });

  it('rejects JSON that is not a model, naming the problem', () => {
    const linear = JSON.parse(JSON.stringify(fitLinear(regression.train.X, regression.train.y)));
    expect(() => loadModel(null)).toThrow(/unknown kind/);
    expect(() => loadModel({ ...linear, kind: 'svm' })).toThrow(/unknown kind\/task "svm"\/"regression"/);
    expect(() => loadModel({ ...linear, version: 2 })).toThrow(/version 2 is not supported/);
    expect(() => loadModel({ ...linear, coefficients: [1, 2] })).toThrow(/coefficients must have 6 values/);
    // JSON turns NaN into null.
    expect(() => loadModel({ ...linear, intercept: null })).toThrow(/intercept must be a finite number/);
  });
});
