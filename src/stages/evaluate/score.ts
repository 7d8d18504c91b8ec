import { z } from 'zod';
import {
  accuracy,
  confusionMatrix,
  logLoss,
  type Matrix,
  mae,
  precisionRecallF1,
  r2,
  rmse,
  rocAuc,
  rocAucOvr,
} from '../ml/index.ts';
import type { AnyModel } from '../ml/load-any.ts';
import { type Curve, predictedPairs, rocCurve } from './curves.ts';

export const CLASSIFICATION_METRICS = [
  'accuracy',
  'precision',
  'recall',
  'f1',
  'roc_auc',
  'log_loss',
] as const;
export const REGRESSION_METRICS = ['rmse', 'mae', 'r2'] as const;
export const METRIC = z.enum([...CLASSIFICATION_METRICS, ...REGRESSION_METRICS]);
export type MetricName = z.infer<typeof METRIC>;

/** Metrics where smaller is better; a threshold on them is a maximum. */
const LOWER_IS_BETTER = new Set<MetricName>(['log_loss', 'rmse', 'mae']);
export const isLowerBetter = (metric: MetricName) => LOWER_IS_BETTER.has(metric);

export type Metrics = Partial<Record<MetricName, number>> & {
  /** Rows are true classes, columns predicted, in `labels` order (classification only). */
  confusion?: { labels: number[]; counts: number[][] };
};

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Scores a model on rows it did not train on. Classification gets accuracy, precision,
 * recall and F1 (macro when more than two classes), ROC AUC (one-vs-rest macro for more
 * than two) and log loss; regression gets RMSE, MAE and R².
 */
export function scoreModel(model: AnyModel, X: Matrix, y: Float64Array): Metrics {
  return metricsOf(model, y, predictionsOf(model, X));
}

export type ScoreOptions = {
  /** The positive class's label as people read it (binary classification's ROC curve). */
  positiveLabel?: string;
};

/**
 * `scoreModel` plus the curve an approval chart draws (see curves.ts), from the same
 * predictions: the ROC curve for two classes, (actual, predicted) pairs for regression.
 * More than two classes get no curve: their roc_auc is a macro average of one-vs-rest
 * curves, which no single curve shows.
 */
export function scoreWithCurve(
  model: AnyModel,
  X: Matrix,
  y: Float64Array,
  options: ScoreOptions = {},
): { metrics: Metrics; curve: Curve | null } {
  const predictions = predictionsOf(model, X);
  const metrics = metricsOf(model, y, predictions);
  if (predictions.task === 'regression') return { metrics, curve: predictedPairs(y, predictions.predicted) };
  if (model.task !== 'classification' || model.classes.length !== 2) return { metrics, curve: null };
  const positive = model.classes[1] ?? 1;
  const curve = rocCurve(
    y,
    positiveColumn(predictions.proba),
    positive,
    options.positiveLabel ?? String(positive),
  );
  return { metrics, curve };
}

type Predictions =
  | { task: 'regression'; predicted: Float64Array }
  | { task: 'classification'; predicted: Float64Array; proba: Matrix };

function predictionsOf(model: AnyModel, X: Matrix): Predictions {
  if (model.task === 'regression') return { task: 'regression', predicted: model.predict(X) };
  return { task: 'classification', predicted: model.predict(X), proba: model.predictProba(X) };
}

/** The second column of a probability matrix: the positive class's score when there are two. */
const positiveColumn = (proba: Matrix) =>
  Float64Array.from({ length: proba.rows }, (_, i) => proba.data[i * proba.cols + 1] ?? 0);

function metricsOf(model: AnyModel, y: Float64Array, predictions: Predictions): Metrics {
  if (predictions.task === 'regression' || model.task === 'regression') {
    const { predicted } = predictions;
    return { rmse: round(rmse(y, predicted)), mae: round(mae(y, predicted)), r2: round(r2(y, predicted)) };
  }
  const { predicted, proba } = predictions;
  const binary = model.classes.length === 2;
  const prf = precisionRecallF1(
    y,
    predicted,
    binary ? { average: 'binary', positive: model.classes[1] } : { average: 'macro' },
  );
  const auc = binary
    ? rocAuc(y, positiveColumn(proba), model.classes[1])
    : rocAucOvr(y, proba, model.classes);
  const confusion = confusionMatrix(y, predicted);
  return {
    accuracy: round(accuracy(y, predicted)),
    precision: round(prf.precision),
    recall: round(prf.recall),
    f1: round(prf.f1),
    roc_auc: round(auc),
    log_loss: round(logLoss(y, proba, model.classes)),
    confusion: {
      labels: Array.from(confusion.labels),
      counts: confusion.counts.map((row) => Array.from(row)),
    },
  };
}

export type ThresholdResult = {
  metric: MetricName;
  threshold: number;
  value: number | null;
  passed: boolean;
  gap: number;
};

/** Checks `validation.thresholds`: minimums, or maximums for metrics where lower is better. */
export function checkThresholds(
  metrics: Metrics,
  thresholds: Partial<Record<MetricName, number>>,
): ThresholdResult[] {
  return Object.entries(thresholds).map(([name, threshold]) => {
    const metric = name as MetricName;
    const value = metrics[metric] ?? null;
    const limit = threshold as number;
    if (value === null) return { metric, threshold: limit, value, passed: false, gap: Number.NaN };
    const lower = isLowerBetter(metric);
    const passed = lower ? value <= limit : value >= limit;
    return { metric, threshold: limit, value, passed, gap: round(lower ? value - limit : limit - value) };
  });
}

/** "roc_auc 0.741 is below the threshold 0.800 (gap 0.059)" */
export function describeMiss(r: ThresholdResult): string {
  if (r.value === null)
    return `${r.metric} was not measured for this task, so its threshold ${r.threshold} cannot be met`;
  const side = isLowerBetter(r.metric) ? 'above the maximum' : 'below the threshold';
  return `${r.metric} ${r.value.toFixed(3)} is ${side} ${r.threshold.toFixed(3)} (gap ${Math.abs(r.gap).toFixed(3)})`;
}

/** Higher-is-better view of a metric, for comparing two models. */
export const better = (metric: MetricName, a: number, b: number) => (isLowerBetter(metric) ? a < b : a > b);
