import { fitForestClassifier, fitForestRegressor } from '../ml/forest.ts';
import { fitGbmClassifier, fitGbmRegressor } from '../ml/gbm.ts';
import { fitKnnClassifier, fitKnnRegressor } from '../ml/knn.ts';
import { fitLinear } from '../ml/linear.ts';
import type { AnyModel } from '../ml/load-any.ts';
import { fitLogistic } from '../ml/logistic.ts';
import type { Matrix } from '../ml/matrix.ts';
import { fitMlp, type MlpHooks } from '../ml/mlp.ts';
import type { Model, ModelKind, Task } from '../ml/model.ts';
import { TUNABLE_PARAMS, type TuneResult, tune } from '../ml/tuning.ts';
import type { ModelType } from './model-params.ts';

/** snake_case spec names to the numeric core's camelCase (`n_estimators` → `nEstimators`). */
export function camelParams(params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([key, value]) => [
      key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}

type SyncFit = (X: Matrix, y: ArrayLike<number>, params: Record<string, unknown>) => Model;

/** The synchronous fitter and the numeric core's kind for a spec model type (all but mlp). */
function syncFitter(type: Exclude<ModelType, 'mlp'>, task: Task): { fitter: SyncFit; kind: ModelKind } {
  const classification = task === 'classification';
  switch (type) {
    case 'linear':
      return { fitter: fitLinear, kind: 'linear' };
    case 'logistic':
      return { fitter: fitLogistic, kind: 'logistic' };
    case 'gradient_boosting':
      return { fitter: classification ? fitGbmClassifier : fitGbmRegressor, kind: 'gbm' };
    case 'random_forest':
      return { fitter: classification ? fitForestClassifier : fitForestRegressor, kind: 'forest' };
    case 'knn':
      return { fitter: classification ? fitKnnClassifier : fitKnnRegressor, kind: 'knn' };
  }
}

export type FitRequest = {
  type: ModelType;
  task: Task;
  X: Matrix;
  y: Float64Array;
  /** Validated `model.params` (snake_case). */
  params: Record<string, unknown>;
  /** `model.tuning`, when the spec asks for a search. */
  tuning?: Record<string, unknown>;
  onProgress?: (message: string, fraction?: number) => void;
};

export type FitResult = {
  model: AnyModel;
  params: Record<string, unknown>;
  tuning?: Omit<TuneResult<object>, 'best'>;
};

/** Fits the spec's model type, after a hyper-parameter search when `tuning` is given. */
export async function fitModel(request: FitRequest): Promise<FitResult> {
  const { type, task, X, y, onProgress } = request;
  if (type === 'mlp') {
    const hooks: MlpHooks = {
      onEpoch: (epoch, logs) =>
        onProgress?.(
          `epoch ${epoch}/${request.params.epochs}: loss ${logs.loss.toFixed(4)}`,
          epoch / Number(request.params.epochs),
        ),
    };
    const model = await fitMlp(X, y, { ...request.params, task }, hooks);
    return { model, params: request.params };
  }
  const { fitter, kind } = syncFitter(type, task);
  const base = camelParams(request.params);
  if (!request.tuning) return { model: fitter(X, y, base), params: request.params };
  const space = camelParams((request.tuning.space as Record<string, unknown>) ?? {}) as Record<
    string,
    (string | number | boolean)[]
  >;
  const result = tune<Record<string, unknown>>({
    fit: fitter,
    X,
    y,
    task,
    params: base,
    spec: { ...request.tuning, space },
    paramNames: TUNABLE_PARAMS[kind],
    onTrial: (trial, index, total) =>
      onProgress?.(
        `trial ${index + 1}/${total}: ${JSON.stringify(trial.values)} → ${trial.score.toFixed(4)}`,
        (index + 1) / total,
      ),
  });
  const { best, ...summary } = result;
  return { model: fitter(X, y, best), params: best, tuning: summary };
}
