import { isStewardError } from '../../errors.ts';
import type { FeatureRow } from '../features/input.ts';
import { applyTransform } from '../features/transform.ts';
import type { FeatureTransform } from '../features/transform-schema.ts';
import { toCategory, toNumber } from '../features/values.ts';
import type { LoadedModel } from './loaded-model.ts';

/** A classifier's answer: the most probable label, and each label's probability (in `LoadedModel.labels` order). */
export type ClassPrediction = { label: string; probabilities: number[] };
/** One row's answer: a class prediction, or the predicted number of a regressor. */
export type Prediction = ClassPrediction | number;

/** Why a row was not scored, naming the field at fault when there is one. */
export type RowError = { row: number; field?: string; message: string };

export type RowOutcome = { ok: true; prediction: Prediction } | { ok: false; error: RowError };

/**
 * The first problem of row `i` under the transform, found with the same cell readers
 * `applyTransform` uses (so it refuses exactly what the transform refuses), or undefined.
 */
export function rowProblem(transform: FeatureTransform, row: unknown, i: number): RowError | undefined {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) {
    return { row: i, message: `row ${i} is not an object of feature values` };
  }
  for (const step of transform.inputs) {
    const value = (row as FeatureRow)[step.name];
    if (value === undefined) {
      return {
        row: i,
        field: step.name,
        message: `row ${i} has no field "${step.name}", which the model needs; send null if the value is missing`,
      };
    }
    try {
      if (step.kind === 'categorical') toCategory(value, step.name, i);
      else toNumber(value, step.name, i, step.kind === 'boolean');
    } catch (error) {
      if (!isStewardError(error)) throw error;
      return { row: i, field: step.name, message: error.message };
    }
  }
  return undefined;
}

/**
 * Scores rows of `{feature: value}` with one model version. The stored transform is
 * applied exactly as in training; the whole batch is tried at once, and only when that
 * fails is each row checked, so a bad row gets its own error while the others still
 * answer. Fields the transform does not read are ignored.
 */
export function scoreRows(
  loaded: LoadedModel,
  rows: readonly unknown[],
  /** How errors number the rows (their places in the client's batch). @default 0, 1, … */
  numbers?: readonly number[],
): RowOutcome[] {
  const outcomes: RowOutcome[] = new Array(rows.length);
  let good: number[] = rows.map((_, i) => i);
  let X: ReturnType<typeof applyTransform>;
  try {
    X = applyTransform(loaded.transform, rows as FeatureRow[]);
  } catch (error) {
    if (!isStewardError(error)) throw error;
    good = [];
    rows.forEach((row, i) => {
      const problem = rowProblem(loaded.transform, row, numbers?.[i] ?? i);
      if (problem) outcomes[i] = { ok: false, error: problem };
      else good.push(i);
    });
    // Every row passes on its own yet the batch failed: not a row's fault, so not a 400.
    if (good.length === rows.length) throw error;
    if (good.length === 0) return outcomes;
    X = applyTransform(
      loaded.transform,
      good.map((i) => rows[i] as FeatureRow),
    );
  }
  const { model } = loaded;
  if (model.task === 'classification') {
    const proba = model.predictProba(X);
    const k = proba.cols;
    good.forEach((rowIndex, j) => {
      const probabilities = Array.from(proba.data.subarray(j * k, j * k + k));
      let best = 0;
      for (let c = 1; c < k; c++) if ((probabilities[c] ?? 0) > (probabilities[best] ?? 0)) best = c;
      outcomes[rowIndex] = {
        ok: true,
        prediction: { label: loaded.labels[best] ?? String(best), probabilities },
      };
    });
  } else {
    const values = model.predict(X);
    good.forEach((rowIndex, j) => {
      outcomes[rowIndex] = { ok: true, prediction: values[j] ?? Number.NaN };
    });
  }
  return outcomes;
}

/** The v1 form of a prediction: `{label, probabilities: {label: p}}`, or the number. */
export function predictionJson(loaded: LoadedModel, prediction: Prediction): unknown {
  if (typeof prediction === 'number') return prediction;
  return {
    label: prediction.label,
    probabilities: Object.fromEntries(loaded.labels.map((label, k) => [label, prediction.probabilities[k]])),
  };
}
