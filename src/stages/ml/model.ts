import type { Matrix } from './matrix.ts';

/**
 * The contract between the numeric core and the train/evaluate/deploy stages.
 *
 * A model is fitted by a module's `fit…(X, y, params)` function, used through this
 * interface, stored as the plain JSON its `toJSON()` returns (so a run can keep it in the
 * database or an artefact file), and revived with `loadModel` from `load.ts` or the class's
 * own `fromJSON`. Predictions after a JSON round trip are bit-identical: models hold only
 * finite doubles, which JSON's shortest round-trip number format preserves exactly.
 *
 * The union is discriminated on `task`, so a stage checks `model.task === 'classification'`
 * before asking for probabilities, and the compiler keeps it honest.
 */
export type ModelKind = 'linear' | 'logistic' | 'gbm' | 'forest' | 'knn';
export type Task = 'regression' | 'classification';

/** What every saved model's JSON starts with; `version` changes when a format does. */
export type ModelJsonHeader<K extends ModelKind, T extends Task> = {
  kind: K;
  task: T;
  version: 1;
  nFeatures: number;
};

type ModelBase = {
  readonly kind: ModelKind;
  /** Number of columns the model was fitted on; `predict` rejects any other width. */
  readonly nFeatures: number;
  /**
   * One prediction per row of X: the predicted value for a regressor, the most probable
   * label (a value of `classes`) for a classifier.
   */
  predict(X: Matrix): Float64Array;
  /** Plain JSON (numbers, strings, arrays, objects) that `fromJSON` accepts back. */
  toJSON(): ModelJsonHeader<ModelKind, Task>;
};

export type Regressor = ModelBase & { readonly task: 'regression' };

export type Classifier = ModelBase & {
  readonly task: 'classification';
  /** Distinct training labels, ascending; column k of `predictProba` is `classes[k]`. */
  readonly classes: Float64Array;
  /** rows × classes.length; each row sums to 1. Binary models give both columns. */
  predictProba(X: Matrix): Matrix;
};

export type Model = Regressor | Classifier;
