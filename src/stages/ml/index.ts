/**
 * The numeric core of Steward's train and evaluate stages: dependency-free, seeded and
 * deterministic models, metrics and splits over `Float64Array`. See `model.ts` for the
 * contract every model follows.
 */
export { type Bins, fitBins } from './binning.ts';
export {
  ForestClassifier,
  type ForestParams,
  ForestRegressor,
  fitForestClassifier,
  fitForestRegressor,
} from './forest.ts';
export { fitGbmClassifier, fitGbmRegressor, GbmClassifier, type GbmParams, GbmRegressor } from './gbm.ts';
export { fitKnnClassifier, fitKnnRegressor, KnnClassifier, type KnnParams, KnnRegressor } from './knn.ts';
export { encodeLabels } from './labels.ts';
export { fitLinear, LinearModel, type LinearParams } from './linear.ts';
export { loadModel } from './load.ts';
export { fitLogistic, LogisticModel, type LogisticParams } from './logistic.ts';
export { fromRows, type Matrix, matrix, selectRows, toRows } from './matrix.ts';
export * from './metrics.ts';
export type { Classifier, Model, ModelKind, Regressor, Task } from './model.ts';
export { createRng, type Rng } from './random.ts';
export { holdoutSplit, kFold, type Split } from './split.ts';
