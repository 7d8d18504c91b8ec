import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadAnyModel } from '../../src/stages/ml/load-any.ts';
import { accuracy, r2, rocAuc } from '../../src/stages/ml/metrics.ts';
import {
  fitMlp,
  type MlpClassifier,
  type MlpFitParams,
  MlpModel,
  type MlpRegressor,
} from '../../src/stages/ml/mlp.ts';
import { loadTf } from '../../src/stages/ml/tf.ts';
import { column, roundTrip, sameBits, trainTest } from './helpers.ts';
import { type Dataset, makeClassification, makeRegression } from './synthetic.ts';

/**
 * The MLP is trained for real on small synthetic sets (a few seconds in all on wasm), so
 * these tests check that it learns, that a seed pins the result down, and that saving
 * and loading lose nothing; not its exact numbers, which depend on the backend.
 */

function nativeInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

function asClassifier(model: MlpModel): MlpClassifier {
  if (model.task !== 'classification') throw new Error('expected a classifier');
  return model;
}

function asRegressor(model: MlpModel): MlpRegressor {
  if (model.task !== 'regression') throw new Error('expected a regressor');
  return model;
}

let regression: { train: Dataset; test: Dataset };
let binary: { train: Dataset; test: Dataset };
let regressor: MlpRegressor;
let classifier: MlpClassifier;

beforeAll(async () => {
  regression = trainTest(makeRegression(2400, 6, 11, 0.3), 1);
  binary = trainTest(makeClassification(1600, 8, 12, { classSep: 1.5 }), 2);
  regressor = asRegressor(
    await fitMlp(regression.train.X, regression.train.y, { task: 'regression', epochs: 30 }),
  );
  classifier = asClassifier(
    await fitMlp(binary.train.X, binary.train.y, { task: 'classification', epochs: 15 }),
  );
});

describe('loadTf', () => {
  it('runs on wasm (or native TensorFlow when tfjs-node is installed) and is memoised', async () => {
    const first = await loadTf();
    expect(first.backend).toBe(nativeInstalled() ? 'tensorflow' : 'wasm');
    expect(first.tf.getBackend()).toBe(first.backend);
    expect(await loadTf()).toBe(first);
  });
});

describe('fitMlp', () => {
  it('regression beats predicting the mean', () => {
    expect(regressor.kind).toBe('mlp');
    expect(regressor.nFeatures).toBe(6);
    expect(r2(regression.test.y, regressor.predict(regression.test.X))).toBeGreaterThan(0.8);
  });

  it('binary classification separates the classes', () => {
    expect(Array.from(classifier.classes)).toEqual([0, 1]);
    const proba = classifier.predictProba(binary.test.X);
    expect(proba.cols).toBe(2);
    for (let i = 0; i < proba.rows; i++) {
      expect((proba.data[2 * i] ?? 0) + (proba.data[2 * i + 1] ?? 0)).toBeCloseTo(1, 12);
    }
    expect(rocAuc(binary.test.y, column(proba, 1))).toBeGreaterThan(0.9);
    expect(accuracy(binary.test.y, classifier.predict(binary.test.X))).toBeGreaterThan(0.8);
  });

  it('three classes, with labels that are not 0..K-1', async () => {
    const data = makeClassification(1500, 8, 13, { classes: 3, informative: 4, classSep: 1.5 });
    const labels = Float64Array.from(data.y, (v) => 10 * v + 5);
    const { train, test } = trainTest({ X: data.X, y: labels }, 3);
    const model = asClassifier(await fitMlp(train.X, train.y, { task: 'classification', epochs: 15 }));
    expect(Array.from(model.classes)).toEqual([5, 15, 25]);
    const proba = model.predictProba(test.X);
    expect(proba.cols).toBe(3);
    expect(accuracy(test.y, model.predict(test.X))).toBeGreaterThan(0.7);
    model.dispose();
  });

  it('is reproducible: the same seed gives the same model, another seed a different one', async () => {
    const { X, y } = makeClassification(400, 5, 14);
    const params: MlpFitParams = { task: 'classification', hidden: [8], epochs: 3, batch_size: 32 };
    const a = asClassifier(await fitMlp(X, y, params));
    const b = asClassifier(await fitMlp(X, y, params));
    const c = asClassifier(await fitMlp(X, y, { ...params, seed: 7 }));
    expect(sameBits(a.predictProba(X).data, b.predictProba(X).data)).toBe(true);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(sameBits(a.predictProba(X).data, c.predictProba(X).data)).toBe(false);
    for (const m of [a, b, c]) m.dispose();
  });

  it('reports each epoch, holds out validation rows, and stops early', async () => {
    const { X, y } = makeRegression(600, 4, 15);
    const seen: { epoch: number; loss: number; val_loss?: number }[] = [];
    const model = await fitMlp(
      X,
      y,
      {
        task: 'regression',
        hidden: [4],
        epochs: 200,
        learning_rate: 0.05,
        validation_split: 0.25,
        early_stopping_patience: 2,
      },
      { onEpoch: (epoch, logs) => void seen.push({ epoch, ...logs }) },
    );
    const { history } = model;
    expect(seen.length).toBe(history.loss.length);
    expect(seen.length).toBeLessThan(200);
    expect(seen.map((s) => s.epoch)).toEqual(seen.map((_, i) => i + 1));
    expect(seen.every((s) => s.val_loss !== undefined)).toBe(true);
    expect(history.valLoss).toEqual(seen.map((s) => s.val_loss));
    // The weights kept are those of the best held-out epoch, two before the last.
    expect(history.bestEpoch).toBe(seen.length - 2);
    expect(Math.min(...(history.valLoss ?? []))).toBe(history.valLoss?.[history.bestEpoch - 1]);
    model.dispose();
  });

  it('rejects bad parameters and data with a clear message', async () => {
    const { X, y } = makeRegression(50, 3, 16);
    await expect(fitMlp(X, y, { task: 'regression', hidden: [0] })).rejects.toThrow(/mlp: hidden\.0/);
    await expect(
      fitMlp(X, y, { task: 'regression', learning_rte: 0.1 } as unknown as { task: 'regression' }),
    ).rejects.toThrow(/learning_rte/);
    await expect(fitMlp(X, new Float64Array(50), { task: 'classification' })).rejects.toThrow(
      /at least two classes/,
    );
  });
});

describe('prediction', () => {
  it('leaves no tensors behind', async () => {
    const { tf } = await loadTf();
    regressor.predict(regression.test.X);
    classifier.predictProba(binary.test.X);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      regressor.predict(regression.test.X);
      classifier.predict(binary.test.X);
      classifier.predictProba(binary.test.X);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks the width of X', () => {
    const wrong = makeRegression(5, 4, 17).X;
    expect(() => regressor.predict(wrong)).toThrow(/fitted on 6 features but got 4/);
  });

  it('dispose frees the weights', async () => {
    const { tf } = await loadTf();
    const { X, y } = makeRegression(100, 3, 18);
    const before = tf.memory().numTensors;
    const model = await fitMlp(X, y, { task: 'regression', hidden: [4], epochs: 1 });
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.predict(X)).toThrow(/disposed/);
  });
});

describe('JSON', () => {
  it('round-trips through JSON text with bit-identical predictions', async () => {
    const json = roundTrip(classifier);
    const loaded = asClassifier((await loadAnyModel(json)) as MlpModel);
    expect(Array.from(loaded.classes)).toEqual([0, 1]);
    expect(
      sameBits(loaded.predictProba(binary.test.X).data, classifier.predictProba(binary.test.X).data),
    ).toBe(true);
    expect(JSON.stringify(loaded)).toBe(JSON.stringify(classifier));

    const reg = asRegressor(await MlpModel.fromJSON(roundTrip(regressor)));
    expect(sameBits(reg.predict(regression.test.X), regressor.predict(regression.test.X))).toBe(true);
    loaded.dispose();
    reg.dispose();
  });

  it('is plain JSON with the common header', () => {
    const json = classifier.toJSON();
    expect(json).toMatchObject({ kind: 'mlp', task: 'classification', version: 1, nFeatures: 8 });
    expect(typeof json.weightData).toBe('string');
    expect(roundTrip(classifier)).toEqual(json);
  });

  it('loadAnyModel still loads the other models', async () => {
    const json = { kind: 'knn', task: 'regression', version: 1, nFeatures: 1 };
    await expect(loadAnyModel(json)).rejects.toThrow(/saved model is not valid/);
    await expect(loadAnyModel({ kind: 'nope' })).rejects.toThrow(/unknown kind/);
  });

  it('rejects corrupted JSON with a clear error', async () => {
    const good = classifier.toJSON();
    const cases: [unknown, RegExp][] = [
      [
        { ...good, weightData: good.weightData.slice(0, -8) },
        /weightData has \d+ bytes but weightSpecs describe/,
      ],
      [{ ...good, weightData: `${good.weightData.slice(0, -4)}!!!!` }, /weightData must be base64/],
      [{ ...good, topology: undefined }, /topology/],
      [
        { ...good, topology: { class_name: 'Nonsense', config: {} } },
        /TensorFlow could not load the network/,
      ],
      [{ ...good, nFeatures: 3 }, /input is \[null,8\], expected \[null, 3\]/],
      [{ ...good, classes: [0, 1, 2] }, /output is \[null,1\], expected \[null, 3\]/],
      [{ ...good, classes: undefined }, /a classifier needs classes/],
      [{ ...good, version: 2 }, /version/],
      ['not a model', /saved model is not valid/],
    ];
    for (const [json, message] of cases) {
      await expect(MlpModel.fromJSON(json), JSON.stringify(message)).rejects.toThrow(message);
    }
  });
});
