import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import type { ForestParams } from './forest.ts';
import type { GbmParams } from './gbm.ts';
import type { KnnParams } from './knn.ts';
import { encodeLabels } from './labels.ts';
import type { LinearParams } from './linear.ts';
import type { LogisticParams } from './logistic.ts';
import { type Matrix, selectRows } from './matrix.ts';
import { accuracy, logLoss, mae, precisionRecallF1, r2, rmse, rocAucOvr } from './metrics.ts';
import type { Model, ModelKind, Task } from './model.ts';
import { createRng } from './random.ts';
import { kFold } from './split.ts';

/**
 * Hyper-parameter search with k-fold cross-validation, for the spec section `model.tuning`.
 *
 * Why cross-validation rather than one validation split: the training sets Steward sees are
 * often a few thousand rows, where one split's score moves by more than the difference
 * between the candidates; averaging k folds is what scikit-learn's GridSearchCV does and
 * what a data scientist will compare against. Folds are stratified for classification so a
 * rare class appears in every fold (otherwise AUC is undefined on a fold without it).
 *
 * Only the synchronous fitters (linear, logistic, gradient boosting, random forest, k-NN)
 * are searched here: each trial is a plain loop of fits, deterministic for a given seed.
 * The MLP trains asynchronously on TensorFlow.js and is not supported by `tune`.
 *
 * Tuning picks parameters only; the train stage then fits the final model on all the
 * training rows with `best`, as GridSearchCV's `refit` does.
 */

/** Metrics a search can optimise, with scikit-learn's definitions (see metrics.ts). */
export const TUNING_METRICS = ['roc_auc', 'accuracy', 'f1', 'log_loss', 'rmse', 'mae', 'r2'] as const;
export type TuningMetric = (typeof TUNING_METRICS)[number];

const CLASSIFICATION_METRICS: readonly TuningMetric[] = ['roc_auc', 'accuracy', 'f1', 'log_loss'];
const REGRESSION_METRICS: readonly TuningMetric[] = ['rmse', 'mae', 'r2'];
/** Errors and losses go down as a model improves; scores go up. */
const LOWER_IS_BETTER: readonly TuningMetric[] = ['log_loss', 'rmse', 'mae'];

/** Whether a larger value of `metric` means a better model. */
export function higherIsBetter(metric: TuningMetric): boolean {
  return !LOWER_IS_BETTER.includes(metric);
}

/**
 * Most combinations a grid may have, and most trials a random search may run. Each
 * combination costs `folds` fits, so beyond this a search takes hours on the 2-core machines
 * Steward runs on; a larger space should be searched at random.
 */
export const MAX_TRIALS = 500;

/** A value a parameter can take in the search space: what YAML and JSON can say plainly. */
export type ParamValue = number | string | boolean;

const Value = z.union([z.number(), z.string(), z.boolean()]);

const Values = z
  .array(Value)
  .min(1, 'give at least one value to try')
  .refine((values) => new Set(values).size === values.length, 'a value is listed twice');

/**
 * The `model.tuning` section of a pipeline spec:
 *
 * - `method`: `grid` (default) tries every combination of the values in `space`;
 *   `random` tries `trials` distinct combinations drawn at random (all of them when the
 *   space has fewer), which covers large spaces at a fixed cost.
 * - `trials`: combinations a random search tries. Default 10; ignored by `grid`.
 * - `folds`: cross-validation folds, 2..20. Default 3 (scikit-learn's old default, and a
 *   third of the cost of 10 on a 2-core machine).
 * - `metric`: one of `TUNING_METRICS`. Default `roc_auc` for classification and `rmse`
 *   for regression. The direction (higher or lower is better) follows from the metric.
 * - `space`: parameter name → values to try, e.g. `{ k: [5, 15, 31] }`. Names are the
 *   fitter's parameter names (`TUNABLE_PARAMS`).
 * - `seed`: drives the folds and the random draws. Default 42.
 */
export const TuningSpec = z
  .object({
    method: z.enum(['grid', 'random'], { error: 'use grid or random' }).default('grid'),
    trials: z.number().int().min(1).max(MAX_TRIALS).default(10),
    folds: z.number().int().min(2).max(20).default(3),
    metric: z
      .enum(TUNING_METRICS, {
        error: (issue) =>
          `unknown metric ${JSON.stringify(issue.input)}: use one of ${TUNING_METRICS.join(', ')}`,
      })
      .optional(),
    space: z
      .record(z.string().min(1, 'a parameter name is empty'), Values)
      .refine((space) => Object.keys(space).length > 0, 'name at least one parameter and the values to try'),
    seed: z.number().int().default(42),
  })
  .strict()
  .superRefine((spec, ctx) => {
    if (spec.method !== 'grid') return;
    const size = gridSize(spec.space);
    if (size > MAX_TRIALS) {
      ctx.addIssue({
        code: 'custom',
        path: ['space'],
        message: `the grid has ${size} combinations (${Object.values(spec.space)
          .map((v) => v.length)
          .join(' × ')}), more than ${MAX_TRIALS}: use method: random with trials`,
      });
    }
  });
export type TuningSpec = z.infer<typeof TuningSpec>;
export type TuningSpecInput = z.input<typeof TuningSpec>;

/**
 * The parameters of each synchronous fitter that a search may vary, so a misspelt name in
 * `space` is an error instead of a search whose trials are all the same model (fitters
 * ignore names they do not know). `seed` is left out on purpose: choosing the luckiest seed
 * is overfitting the folds, not tuning.
 */
export const TUNABLE_PARAMS = {
  linear: ['alpha', 'fitIntercept'],
  logistic: ['C', 'fitIntercept', 'maxIter', 'tol'],
  gbm: [
    'maxIter',
    'learningRate',
    'maxLeafNodes',
    'maxDepth',
    'minSamplesLeaf',
    'l2',
    'maxBins',
    'earlyStopping',
    'validationFraction',
    'nIterNoChange',
    'tol',
  ],
  forest: [
    'nEstimators',
    'maxFeatures',
    'maxDepth',
    'minSamplesSplit',
    'minSamplesLeaf',
    'bootstrap',
    'maxBins',
  ],
  knn: ['k', 'weights', 'standardize'],
} as const satisfies {
  linear: readonly (keyof LinearParams)[];
  logistic: readonly (keyof LogisticParams)[];
  gbm: readonly (keyof GbmParams)[];
  forest: readonly (keyof ForestParams)[];
  knn: readonly (keyof KnnParams)[];
} & Record<ModelKind, readonly string[]>;

/**
 * Validates a `model.tuning` section. Problems are a PIPELINE_INVALID error listing each
 * one by its path in the spec, so all of them can be fixed in one go.
 */
export function parseTuningSpec(input: unknown): TuningSpec {
  const parsed = TuningSpec.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `  ${['model', 'tuning', ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new StewardError('PIPELINE_INVALID', `the model.tuning section is invalid:\n${problems.join('\n')}`);
}

/** The metric a search optimises: the spec's, or the task's default; checked against the task. */
export function tuningMetric(spec: Pick<TuningSpec, 'metric'>, task: Task): TuningMetric {
  const metric = spec.metric ?? (task === 'classification' ? 'roc_auc' : 'rmse');
  const allowed = task === 'classification' ? CLASSIFICATION_METRICS : REGRESSION_METRICS;
  if (!allowed.includes(metric)) {
    throw new StewardError(
      'PIPELINE_INVALID',
      `model.tuning.metric: ${metric} does not score ${task}; use one of ${allowed.join(', ')}`,
    );
  }
  return metric;
}

export type Trial<P> = {
  /** The parameters fitted: the base parameters with this trial's values on top. */
  params: P;
  /** Only the values drawn from the search space, for showing a trial in a few words. */
  values: Record<string, ParamValue>;
  /** Mean of `foldScores`; NaN if the metric was undefined on some fold. */
  score: number;
  foldScores: number[];
};

export type TuneOptions<P extends object> = {
  /** A synchronous fitter, e.g. `fitKnnClassifier`. */
  fit: (X: Matrix, y: ArrayLike<number>, params: P) => Model;
  X: Matrix;
  y: ArrayLike<number>;
  task: Task;
  /** Base parameters (the spec's `model.params`); each trial overrides the searched ones. */
  params: P;
  /** The `model.tuning` section, parsed or not. */
  spec: TuningSpecInput;
  /** When given, names in `space` outside this list are an error (see `TUNABLE_PARAMS`). */
  paramNames?: readonly string[];
  /** Called after each trial, for progress in chat: trial `index` (0-based) of `total`. */
  onTrial?: (trial: Trial<P>, index: number, total: number) => void;
};

export type TuneResult<P> = {
  /** Parameters of the best trial: base parameters plus its values. */
  best: P;
  bestScore: number;
  metric: TuningMetric;
  higherIsBetter: boolean;
  /** Every trial, in the order run. */
  trials: Trial<P>[];
};

function gridSize(space: Record<string, readonly ParamValue[]>): number {
  return Object.values(space).reduce((size, values) => size * values.length, 1);
}

/** The values at positions `picks` of each parameter's list, in the spec's parameter order. */
function pick(
  names: readonly string[],
  space: Record<string, readonly ParamValue[]>,
  picks: readonly number[],
): Record<string, ParamValue> {
  const values: Record<string, ParamValue> = {};
  names.forEach((name, p) => {
    const value = space[name]?.[picks[p] ?? 0];
    if (value !== undefined) values[name] = value;
  });
  return values;
}

/** Combination `index` of the grid, as nested loops with the last parameter varying fastest. */
function combination(
  names: readonly string[],
  space: Record<string, readonly ParamValue[]>,
  index: number,
): Record<string, ParamValue> {
  const picks = new Array<number>(names.length).fill(0);
  let rest = index;
  for (let p = names.length - 1; p >= 0; p--) {
    const count = space[names[p] ?? '']?.length ?? 1;
    picks[p] = rest % count;
    rest = Math.floor(rest / count);
  }
  return pick(names, space, picks);
}

/**
 * The combinations to try. Grid: all of them in order. Random: `trials` distinct ones,
 * each parameter drawn uniformly and repeats redrawn (uniform over the grid without
 * replacement, as scikit-learn's ParameterSampler does with lists), or the whole grid in
 * order when it is no larger than `trials`.
 */
function candidates(spec: TuningSpec): Record<string, ParamValue>[] {
  const names = Object.keys(spec.space);
  const size = gridSize(spec.space);
  if (spec.method === 'grid' || size <= spec.trials) {
    return Array.from({ length: size }, (_, i) => combination(names, spec.space, i));
  }
  // Forked: the folds' generator starts from the same seed, and the draws should not mirror its shuffle.
  const rng = createRng(spec.seed).fork();
  const seen = new Set<string>();
  const out: Record<string, ParamValue>[] = [];
  while (out.length < spec.trials) {
    const picks = names.map((name) => rng.int(spec.space[name]?.length ?? 1));
    const key = picks.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(pick(names, spec.space, picks));
  }
  return out;
}

/** One model's score on held-out rows. */
function scoreOf(metric: TuningMetric, model: Model, X: Matrix, y: Float64Array, classCount: number): number {
  if (model.task === 'classification') {
    switch (metric) {
      case 'roc_auc':
        return rocAucOvr(y, model.predictProba(X), model.classes);
      case 'log_loss':
        return logLoss(y, model.predictProba(X), model.classes);
      case 'accuracy':
        return accuracy(y, model.predict(X));
      case 'f1':
        // Binary: F1 of the larger label (1 in 0/1 data); more classes: macro average.
        return precisionRecallF1(y, model.predict(X), {
          average: classCount > 2 ? 'macro' : 'binary',
          positive: model.classes[model.classes.length - 1] ?? 1,
        }).f1;
      default:
        break;
    }
  } else {
    const predicted = model.predict(X);
    switch (metric) {
      case 'rmse':
        return rmse(y, predicted);
      case 'mae':
        return mae(y, predicted);
      case 'r2':
        return r2(y, predicted);
      default:
        break;
    }
  }
  throw new StewardError(
    'BAD_REQUEST',
    `tuning: the fitter returned a ${model.task} model; ${metric} cannot score it`,
  );
}

/**
 * Every class needs a row in every fold: a fold without one cannot score AUC or log loss
 * and its training part might not know the class at all. Stratified folds give each class
 * a share in every fold exactly when it has at least `folds` rows.
 */
function checkClassCounts(y: ArrayLike<number>, folds: number): number {
  const { classes, codes } = encodeLabels(y);
  const counts = new Array<number>(classes.length).fill(0);
  for (const c of codes) counts[c] = (counts[c] ?? 0) + 1;
  counts.forEach((count, c) => {
    if (count < folds) {
      throw new StewardError(
        'BAD_REQUEST',
        `tuning: class ${classes[c]} has ${count} row${count === 1 ? '' : 's'}, fewer than the ${folds} folds; ` +
          'use fewer folds (model.tuning.folds) or more data',
      );
    }
  });
  return classes.length;
}

function describe(values: Record<string, ParamValue>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(', ');
}

/**
 * Runs the search: for each candidate, fits on k-1 folds and scores the held-out fold,
 * k times, and averages. The best trial has the highest mean score (lowest for log_loss,
 * rmse and mae); ties go to the earlier trial, so a grid written from simple to complex
 * prefers the simpler model. A trial whose metric is undefined (NaN) never wins.
 *
 * Throws PIPELINE_INVALID for a bad spec (unknown metric, empty value list, a metric that
 * does not fit the task, a parameter name outside `paramNames`) and BAD_REQUEST for data
 * that cannot be cross-validated (a class with fewer rows than folds), before any fit.
 * A fit that fails names the trial's values, since those usually caused it.
 */
export function tune<P extends object>(options: TuneOptions<P>): TuneResult<P> {
  const spec = parseTuningSpec(options.spec);
  const { X, task } = options;
  const metric = tuningMetric(spec, task);
  if (options.paramNames) {
    const known = new Set(options.paramNames);
    const unknown = Object.keys(spec.space).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw new StewardError(
        'PIPELINE_INVALID',
        `model.tuning.space: unknown parameter${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; ` +
          `this model takes ${options.paramNames.join(', ')}`,
      );
    }
  }
  const y = Float64Array.from(options.y);
  if (y.length !== X.rows) {
    throw new StewardError('BAD_REQUEST', `tuning: X has ${X.rows} rows but y has ${y.length} values`);
  }
  const classCount = task === 'classification' ? checkClassCounts(y, spec.folds) : 0;
  const splits = kFold(X.rows, spec.folds, {
    seed: spec.seed,
    stratify: task === 'classification' ? y : undefined,
  }).map((split) => ({
    trainX: selectRows(X, split.train),
    trainY: Float64Array.from(split.train, (i) => y[i] ?? 0),
    testX: selectRows(X, split.test),
    testY: Float64Array.from(split.test, (i) => y[i] ?? 0),
  }));

  const higher = higherIsBetter(metric);
  const better = (a: number, b: number): boolean => (higher ? a > b : a < b);
  const list = candidates(spec);
  const trials: Trial<P>[] = [];
  let bestIndex = -1;
  list.forEach((values, index) => {
    const params = { ...options.params, ...values };
    const foldScores = splits.map((fold) => {
      let model: Model;
      try {
        model = options.fit(fold.trainX, fold.trainY, params);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new StewardError(
          error instanceof StewardError ? error.code : 'BAD_REQUEST',
          `tuning trial ${index + 1} (${describe(values)}) failed: ${reason}`,
          { cause: error },
        );
      }
      if (model.task !== task) {
        throw new StewardError(
          'BAD_REQUEST',
          `tuning: the fitter returned a ${model.task} model for ${task}`,
        );
      }
      return scoreOf(metric, model, fold.testX, fold.testY, classCount);
    });
    const score = foldScores.reduce((sum, s) => sum + s, 0) / foldScores.length;
    const trial: Trial<P> = { params, values, score, foldScores };
    trials.push(trial);
    const current = trials[bestIndex];
    if (!Number.isNaN(score) && (current === undefined || better(score, current.score))) bestIndex = index;
    options.onTrial?.(trial, index, list.length);
  });

  const best = trials[bestIndex];
  if (!best) {
    throw new StewardError(
      'BAD_REQUEST',
      `tuning: ${metric} was undefined on some fold for every trial; try another metric or fewer folds`,
    );
  }
  return { best: best.params, bestScore: best.score, metric, higherIsBetter: higher, trials };
}
