import { describe, expect, it } from 'vitest';
import { StewardError } from '../../src/errors.ts';
import { fitKnnClassifier } from '../../src/stages/ml/knn.ts';
import { fitLinear } from '../../src/stages/ml/linear.ts';
import { fitLogistic } from '../../src/stages/ml/logistic.ts';
import { fromRows, matrix } from '../../src/stages/ml/matrix.ts';
import type { Model } from '../../src/stages/ml/model.ts';
import { createRng } from '../../src/stages/ml/random.ts';
import {
  parseTuningSpec,
  TUNABLE_PARAMS,
  type TuningSpecInput,
  tune,
  tuningMetric,
} from '../../src/stages/ml/tuning.ts';
import { makeClassification, makeRegression } from './synthetic.ts';

/** Noisy labels (20% flipped) on overlapping clusters: one neighbour overfits, fifteen average it out. */
const noisy = makeClassification(600, 4, 11, { flip: 0.2, classSep: 0.8 });
const regression = makeRegression(300, 5, 3, 0.5);

/** The error a function throws, for checking its code and message together. */
function errorOf(f: () => unknown): StewardError {
  try {
    f();
  } catch (error) {
    if (error instanceof StewardError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

describe('tune: picks what is known to be better', () => {
  it('k-NN on noisy labels prefers 15 neighbours to 1 (accuracy and AUC)', () => {
    for (const metric of ['accuracy', 'roc_auc'] as const) {
      const result = tune({
        fit: fitKnnClassifier,
        X: noisy.X,
        y: noisy.y,
        task: 'classification',
        params: { standardize: true },
        spec: { space: { k: [1, 15] }, metric },
      });
      expect(result.best).toEqual({ standardize: true, k: 15 });
      const [one, fifteen] = result.trials;
      expect(fifteen?.score).toBeGreaterThan((one?.score ?? 1) + 0.03);
      expect(result.bestScore).toBe(fifteen?.score);
      expect(result.metric).toBe(metric);
      expect(result.higherIsBetter).toBe(true);
    }
  });

  it('regression: lower rmse and mae win, higher r2 wins, and they agree on a huge ridge being worse', () => {
    for (const metric of ['rmse', 'mae', 'r2'] as const) {
      const result = tune({
        fit: fitLinear,
        X: regression.X,
        y: regression.y,
        task: 'regression',
        params: {},
        spec: { space: { alpha: [1e6, 0] }, metric },
      });
      expect(result.best).toEqual({ alpha: 0 });
      expect(result.higherIsBetter).toBe(metric === 'r2');
      const scores = result.trials.map((t) => t.score);
      const expected = metric === 'r2' ? Math.max(...scores) : Math.min(...scores);
      expect(result.bestScore).toBe(expected);
    }
  });

  it('log loss is lower-better: a heavily penalised logistic model loses', () => {
    const data = makeClassification(400, 5, 2, { classSep: 2 });
    const result = tune({
      fit: fitLogistic,
      X: data.X,
      y: data.y,
      task: 'classification',
      params: {},
      spec: { space: { C: [1e-4, 1] }, metric: 'log_loss' },
    });
    expect(result.best).toEqual({ C: 1 });
    expect(result.higherIsBetter).toBe(false);
    expect(result.trials[0]?.score).toBeGreaterThan(result.trials[1]?.score ?? 0);
  });

  it('defaults: roc_auc for classification, rmse for regression, 3 folds', () => {
    expect(tuningMetric({}, 'classification')).toBe('roc_auc');
    expect(tuningMetric({}, 'regression')).toBe('rmse');
    const result = tune({
      fit: fitLinear,
      X: regression.X,
      y: regression.y,
      task: 'regression',
      params: {},
      spec: { space: { alpha: [0] } },
    });
    expect(result.metric).toBe('rmse');
    expect(result.trials[0]?.foldScores).toHaveLength(3);
  });

  it('ties go to the earlier trial', () => {
    // Both values fit the same model, so both trials score exactly the same.
    const tie = tune({
      fit: (X, y, _params: { tag?: string }) => fitLinear(X, y),
      X: regression.X,
      y: regression.y,
      task: 'regression',
      params: {},
      spec: { space: { tag: ['b', 'a'] } },
    });
    expect(tie.trials[0]?.score).toBe(tie.trials[1]?.score);
    expect(tie.best).toEqual({ tag: 'b' });
  });
});

describe('tune: search methods', () => {
  it('grid tries the full cartesian product, last parameter fastest, base parameters kept', () => {
    const seen: string[] = [];
    const result = tune({
      fit: fitLinear,
      X: regression.X,
      y: regression.y,
      task: 'regression',
      params: { fitIntercept: true },
      spec: { space: { alpha: [0, 1, 10], fitIntercept: [true, false] } },
      onTrial: (trial, index, total) => seen.push(`${index + 1}/${total} ${JSON.stringify(trial.values)}`),
    });
    expect(result.trials.map((t) => t.values)).toEqual([
      { alpha: 0, fitIntercept: true },
      { alpha: 0, fitIntercept: false },
      { alpha: 1, fitIntercept: true },
      { alpha: 1, fitIntercept: false },
      { alpha: 10, fitIntercept: true },
      { alpha: 10, fitIntercept: false },
    ]);
    expect(seen).toHaveLength(6);
    expect(seen[5]).toBe('6/6 {"alpha":10,"fitIntercept":false}');
    expect(result.trials[1]?.params).toEqual({ fitIntercept: false, alpha: 0 });
  });

  it('random with a seed is reproducible, draws distinct combinations, and a new seed draws others', () => {
    const space = { alpha: [0, 0.01, 0.1, 1, 10, 100], fitIntercept: [true, false] };
    const run = (seed: number) =>
      tune({
        fit: fitLinear,
        X: regression.X,
        y: regression.y,
        task: 'regression',
        params: {},
        spec: { method: 'random', trials: 5, seed, space },
      });
    const a = run(7);
    const b = run(7);
    expect(a.trials).toEqual(b.trials);
    expect(a.best).toEqual(b.best);
    expect(a.trials).toHaveLength(5);
    const keys = a.trials.map((t) => JSON.stringify(t.values));
    expect(new Set(keys).size).toBe(5);
    const others = [1, 2, 3].map((seed) => JSON.stringify(run(seed).trials.map((t) => t.values)));
    expect(others.some((o) => o !== JSON.stringify(a.trials.map((t) => t.values)))).toBe(true);
  });

  it('random with more trials than combinations tries the whole grid once', () => {
    const result = tune({
      fit: fitLinear,
      X: regression.X,
      y: regression.y,
      task: 'regression',
      params: {},
      spec: { method: 'random', trials: 50, space: { alpha: [0, 1], fitIntercept: [true, false] } },
    });
    expect(result.trials).toHaveLength(4);
  });

  it('uses the same folds for every trial, so identical parameters score identically', () => {
    const result = tune({
      fit: (X, y, _params: { label?: string }) => fitLinear(X, y),
      X: regression.X,
      y: regression.y,
      task: 'regression',
      params: {},
      spec: { space: { label: ['x', 'y'] }, folds: 4 },
    });
    expect(result.trials[0]?.foldScores).toEqual(result.trials[1]?.foldScores);
    expect(result.trials[0]?.foldScores).toHaveLength(4);
  });

  it('stratifies classification folds: a rare class is in every fold, so AUC is defined on each', () => {
    // 3 positives in 60 rows with 3 folds: unstratified folds would often miss one.
    const rng = createRng(5);
    const rows = 60;
    const data = new Float64Array(rows * 2);
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      y[i] = i % 20 === 7 ? 1 : 0;
      data[2 * i] = (y[i] ?? 0) * 2 + rng.normal();
      data[2 * i + 1] = rng.normal();
    }
    const result = tune({
      fit: fitKnnClassifier,
      X: matrix(rows, 2, data),
      y,
      task: 'classification',
      params: {},
      spec: { space: { k: [1, 3, 5] }, folds: 3 },
    });
    for (const trial of result.trials) {
      expect(trial.foldScores.every(Number.isFinite)).toBe(true);
    }
  });
});

describe('tune: bad specs and data are clear errors, before any fit', () => {
  const run = (spec: TuningSpecInput | Record<string, unknown>, fits = { count: 0 }) =>
    errorOf(() =>
      tune({
        fit: (X, y, p: { k?: number }): Model => {
          fits.count++;
          return fitKnnClassifier(X, y, p);
        },
        X: noisy.X,
        y: noisy.y,
        task: 'classification',
        params: {},
        paramNames: TUNABLE_PARAMS.knn,
        // Deliberately unchecked: specs arrive from YAML.
        spec: spec as TuningSpecInput,
      }),
    );

  it('an unknown metric names the allowed ones', () => {
    const fits = { count: 0 };
    const error = run({ space: { k: [1] }, metric: 'auc' }, fits);
    expect(error.code).toBe('PIPELINE_INVALID');
    expect(error.message).toContain('model.tuning.metric: unknown metric "auc"');
    expect(error.message).toContain('roc_auc, accuracy, f1, log_loss, rmse, mae, r2');
    expect(fits.count).toBe(0);
  });

  it('an empty value list, an empty space and a repeated value are each named', () => {
    expect(run({ space: { k: [] } }).message).toContain(
      'model.tuning.space.k: give at least one value to try',
    );
    expect(run({ space: {} }).message).toContain('model.tuning.space: name at least one parameter');
    expect(run({ space: { k: [3, 3] } }).message).toContain('model.tuning.space.k: a value is listed twice');
    expect(run({}).message).toContain('model.tuning.space');
  });

  it('lists every problem at once, with its path', () => {
    const error = run({ method: 'bayes', folds: 1, space: { k: [] }, extra: true });
    const lines = error.message.split('\n').slice(1);
    expect(lines).toHaveLength(4);
    expect(error.message).toContain('model.tuning.method: use grid or random');
    expect(error.message).toContain('model.tuning.folds');
  });

  it('a metric for the other task is refused', () => {
    const error = run({ space: { k: [1] }, metric: 'rmse' });
    expect(error.code).toBe('PIPELINE_INVALID');
    expect(error.message).toContain(
      'rmse does not score classification; use one of roc_auc, accuracy, f1, log_loss',
    );
  });

  it('an unknown parameter name is refused when the fitter’s names are given', () => {
    const error = run({ space: { kk: [1, 2] } });
    expect(error.message).toBe(
      'model.tuning.space: unknown parameter kk; this model takes k, weights, standardize',
    );
  });

  it('a grid too large to finish is refused with the way out', () => {
    const many = Array.from({ length: 30 }, (_, i) => i + 1);
    const error = run({ space: { k: many, weights: many, standardize: [true, false] } });
    expect(error.message).toContain('the grid has 1800 combinations (30 × 30 × 2), more than 500');
    expect(error.message).toContain('use method: random with trials');
    expect(() => parseTuningSpec({ method: 'random', space: { k: many, weights: many } })).not.toThrow();
  });

  it('a class with fewer rows than folds is a data error naming the class', () => {
    const X = fromRows([[0], [1], [2], [3], [4], [5], [6]]);
    const error = errorOf(() =>
      tune({
        fit: fitKnnClassifier,
        X,
        y: [0, 0, 0, 0, 0, 1, 1],
        task: 'classification',
        params: {},
        spec: { space: { k: [1] } },
      }),
    );
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toContain('class 1 has 2 rows, fewer than the 3 folds');
  });

  it('a failing fit names the trial’s values', () => {
    const error = run({ space: { k: [3, 0] } });
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.message).toMatch(/^tuning trial 2 \(k=0\) failed: k must be an integer/);
  });
});
