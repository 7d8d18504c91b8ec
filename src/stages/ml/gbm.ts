import { StewardError } from '../../errors.ts';
import { binnedData, fitBins } from './binning.ts';
import { type BoostLoss, binaryLogLoss, softmaxLoss, squaredError } from './gbm-loss.ts';
import { HistTreeGrower } from './hist-tree.ts';
import { readArray, readHeader, readNumbers } from './json.ts';
import { codesOf, encodeLabels, labelsFromProba, requireClasses } from './labels.ts';
import { sigmoid, softmaxInPlace } from './link.ts';
import { type Matrix, matrix, selectRows } from './matrix.ts';
import type { Classifier, ModelJsonHeader, Regressor } from './model.ts';
import { createRng } from './random.ts';
import { holdoutSplit } from './split.ts';
import { leafOf, type Tree, type TreeJson, treeFromJSON, treeToJSON } from './tree.ts';
import { checkPredict, checkTraining } from './validate.ts';

/**
 * Histogram gradient boosting, modelled on scikit-learn's HistGradientBoosting{Regressor,
 * Classifier}: same defaults, losses, leaf-wise trees and early-stopping rule, so its
 * results and run times can be compared one to one. Features are binned once (see
 * binning.ts); each round fits one tree per output (K for K > 2 classes) to the current
 * gradients (see hist-tree.ts).
 *
 * Deterministic: the seed only drives the early-stopping holdout and the quantile
 * sample on very large inputs; the same data and seed give the same trees.
 */
export type GbmParams = {
  /** Boosting rounds at most. Default 100. */
  maxIter?: number;
  /** Shrinkage applied to every leaf. Default 0.1. */
  learningRate?: number;
  /** Leaves per tree at most. Default 31. */
  maxLeafNodes?: number;
  /** Depth per tree at most (root = 0). Default unlimited (the leaf limit binds). */
  maxDepth?: number;
  /** Rows per leaf at least. Default 20. */
  minSamplesLeaf?: number;
  /** L2 penalty on leaf values. Default 0. */
  l2?: number;
  /** Bins per feature at most, 2..256. Default 255. */
  maxBins?: number;
  /**
   * Hold out `validationFraction` of the rows (stratified for classification) and stop
   * once the held-out loss has not improved by more than `tol` for `nIterNoChange`
   * rounds. 'auto' (default) turns it on above 10,000 rows, as scikit-learn does.
   */
  earlyStopping?: boolean | 'auto';
  validationFraction?: number;
  nIterNoChange?: number;
  tol?: number;
  seed?: number;
};

type Settings = Required<Omit<GbmParams, 'earlyStopping'>> & { earlyStopping: boolean };

function settings(params: GbmParams, rows: number): Settings {
  const s = {
    maxIter: params.maxIter ?? 100,
    learningRate: params.learningRate ?? 0.1,
    maxLeafNodes: params.maxLeafNodes ?? 31,
    maxDepth: params.maxDepth ?? Number.POSITIVE_INFINITY,
    minSamplesLeaf: params.minSamplesLeaf ?? 20,
    l2: params.l2 ?? 0,
    maxBins: params.maxBins ?? 255,
    validationFraction: params.validationFraction ?? 0.1,
    nIterNoChange: params.nIterNoChange ?? 10,
    tol: params.tol ?? 1e-7,
    seed: params.seed ?? 0,
    earlyStopping:
      params.earlyStopping === 'auto' || params.earlyStopping === undefined
        ? rows > 10_000
        : params.earlyStopping,
  };
  const problems: string[] = [];
  if (!Number.isInteger(s.maxIter) || s.maxIter < 0) problems.push('maxIter must be an integer ≥ 0');
  if (!(s.learningRate > 0)) problems.push('learningRate must be > 0');
  if (!Number.isInteger(s.maxLeafNodes) || s.maxLeafNodes < 2)
    problems.push('maxLeafNodes must be an integer ≥ 2');
  if (!(s.maxDepth >= 1)) problems.push('maxDepth must be ≥ 1');
  if (!Number.isInteger(s.minSamplesLeaf) || s.minSamplesLeaf < 1)
    problems.push('minSamplesLeaf must be an integer ≥ 1');
  if (!(s.l2 >= 0)) problems.push('l2 must be ≥ 0');
  if (!Number.isInteger(s.maxBins) || s.maxBins < 2 || s.maxBins > 256)
    problems.push('maxBins must be in 2..256');
  if (!(s.validationFraction > 0 && s.validationFraction < 1))
    problems.push('validationFraction must be in (0, 1)');
  if (!Number.isInteger(s.nIterNoChange) || s.nIterNoChange < 1)
    problems.push('nIterNoChange must be an integer ≥ 1');
  if (problems.length > 0) throw new StewardError('BAD_REQUEST', `gradient boosting: ${problems.join('; ')}`);
  return s;
}

/** The fitted trees and constant term; shared by the regressor and the classifier. */
export type Ensemble = {
  nFeatures: number;
  /** Raw scores per row: 1, or K for multi-class. */
  width: number;
  baseline: Float64Array;
  /** Round-major: tree t adds to output t % width. */
  trees: Tree[];
};

/** Raw scores (rows × width): the baseline plus every tree's leaf value. */
function rawScores(ensemble: Ensemble, X: Matrix): Float64Array {
  checkPredict(X, ensemble.nFeatures);
  const { rows, cols, data } = X;
  const { width, baseline, trees } = ensemble;
  const raw = new Float64Array(rows * width);
  for (let i = 0; i < rows; i++) raw.set(baseline, i * width);
  trees.forEach((tree, t) => {
    const c = t % width;
    for (let i = 0; i < rows; i++) {
      raw[i * width + c] = (raw[i * width + c] ?? 0) + (tree.values[leafOf(tree, data, i * cols)] ?? 0);
    }
  });
  return raw;
}

/** Boosts `loss` on (X, target); target is y for regression, class codes otherwise. */
function boost(X: Matrix, target: Float64Array, loss: BoostLoss, s: Settings, stratify: boolean): Ensemble {
  const rng = createRng(s.seed);
  let train = X;
  let trainTarget = target;
  let valid: { X: Matrix; target: Float64Array; raw: Float64Array } | null = null;
  if (s.earlyStopping) {
    const split = holdoutSplit(X.rows, {
      testFraction: s.validationFraction,
      seed: rng.uint32(),
      stratify: stratify ? target : undefined,
    });
    train = selectRows(X, split.train);
    trainTarget = Float64Array.from(split.train, (i) => target[i] ?? 0);
    valid = {
      X: selectRows(X, split.test),
      target: Float64Array.from(split.test, (i) => target[i] ?? 0),
      raw: new Float64Array(0),
    };
  }

  const n = train.rows;
  const width = loss.width;
  const cuts = fitBins(train, s.maxBins, rng);
  const grower = new HistTreeGrower(binnedData(train, cuts), {
    maxLeafNodes: s.maxLeafNodes,
    maxDepth: s.maxDepth,
    minSamplesLeaf: s.minSamplesLeaf,
    l2: s.l2,
    minHessian: 1e-3,
    learningRate: s.learningRate,
  });
  const baseline = loss.baseline(trainTarget);
  const raw = new Float64Array(n * width);
  for (let i = 0; i < n; i++) raw.set(baseline, i * width);
  const grad = Array.from({ length: width }, () => new Float64Array(n));
  const hess = Array.from({ length: width }, () => new Float64Array(n));
  const trees: Tree[] = [];

  const scores: number[] = [];
  if (valid) {
    valid.raw = new Float64Array(valid.X.rows * width);
    for (let i = 0; i < valid.X.rows; i++) valid.raw.set(baseline, i * width);
    scores.push(-loss.loss(valid.raw, valid.target));
  }

  for (let round = 0; round < s.maxIter; round++) {
    loss.gradients(raw, trainTarget, grad, hess);
    for (let c = 0; c < width; c++) {
      const grown = grower.grow(grad[c] ?? new Float64Array(n), hess[c] ?? new Float64Array(n));
      trees.push(grown.tree);
      for (const leaf of grown.leaves) {
        for (let k = leaf.start; k < leaf.end; k++) {
          const q = (grown.order[k] ?? 0) * width + c;
          raw[q] = (raw[q] ?? 0) + leaf.value;
        }
      }
      if (valid) {
        const { rows, cols, data } = valid.X;
        for (let i = 0; i < rows; i++) {
          const q = i * width + c;
          valid.raw[q] = (valid.raw[q] ?? 0) + (grown.tree.values[leafOf(grown.tree, data, i * cols)] ?? 0);
        }
      }
    }
    if (valid) {
      scores.push(-loss.loss(valid.raw, valid.target));
      if (shouldStop(scores, s.nIterNoChange, s.tol)) break;
    }
  }
  return { nFeatures: X.cols, width, baseline, trees };
}

/**
 * scikit-learn's rule: stop when none of the last `patience` scores beats the score
 * from `patience + 1` rounds ago by more than `tol` (scores are negated losses).
 */
function shouldStop(scores: number[], patience: number, tol: number): boolean {
  if (scores.length < patience + 1) return false;
  const reference = (scores[scores.length - patience - 1] ?? 0) + tol;
  return !scores.slice(-patience).some((score) => score > reference);
}

type GbmJsonBody = { baseline: number[]; trees: TreeJson[] };
export type GbmRegressorJson = ModelJsonHeader<'gbm', 'regression'> & GbmJsonBody;
export type GbmClassifierJson = ModelJsonHeader<'gbm', 'classification'> &
  GbmJsonBody & { classes: number[] };

function ensembleFromJSON(json: unknown, nFeatures: number, width: number): Ensemble {
  const baseline = readNumbers(json, 'baseline', width);
  const trees = readArray(json, 'trees').map((t) => treeFromJSON(t, nFeatures));
  if (trees.some((t) => t.width !== 1) || trees.length % width !== 0) {
    throw new StewardError('BAD_REQUEST', 'saved model is not valid: gbm trees do not match its outputs');
  }
  return { nFeatures, width, baseline, trees };
}

export class GbmRegressor implements Regressor {
  readonly kind = 'gbm';
  readonly task = 'regression';

  constructor(readonly ensemble: Ensemble) {}

  get nFeatures(): number {
    return this.ensemble.nFeatures;
  }

  /** Boosting rounds actually run (fewer than maxIter when early stopping fired). */
  get iterations(): number {
    return this.ensemble.trees.length;
  }

  predict(X: Matrix): Float64Array {
    return rawScores(this.ensemble, X);
  }

  toJSON(): GbmRegressorJson {
    return {
      kind: 'gbm',
      task: 'regression',
      version: 1,
      nFeatures: this.nFeatures,
      baseline: Array.from(this.ensemble.baseline),
      trees: this.ensemble.trees.map(treeToJSON),
    };
  }

  static fromJSON(json: unknown): GbmRegressor {
    const { nFeatures } = readHeader(json, 'gbm', 'regression');
    return new GbmRegressor(ensembleFromJSON(json, nFeatures, 1));
  }
}

export class GbmClassifier implements Classifier {
  readonly kind = 'gbm';
  readonly task = 'classification';

  constructor(
    readonly classes: Float64Array,
    readonly ensemble: Ensemble,
  ) {}

  get nFeatures(): number {
    return this.ensemble.nFeatures;
  }

  /** Boosting rounds actually run (fewer than maxIter when early stopping fired). */
  get iterations(): number {
    return this.ensemble.trees.length / this.ensemble.width;
  }

  /** Raw scores: log-odds of `classes[1]` (rows × 1) or per-class scores (rows × K). */
  decisionFunction(X: Matrix): Matrix {
    return matrix(X.rows, this.ensemble.width, rawScores(this.ensemble, X));
  }

  predictProba(X: Matrix): Matrix {
    const scores = this.decisionFunction(X);
    if (scores.cols === 1) {
      const out = new Float64Array(scores.rows * 2);
      for (let i = 0; i < scores.rows; i++) {
        const p = sigmoid(scores.data[i] ?? 0);
        out[2 * i] = 1 - p;
        out[2 * i + 1] = p;
      }
      return matrix(scores.rows, 2, out);
    }
    for (let i = 0; i < scores.rows; i++) softmaxInPlace(scores.data, i * scores.cols, scores.cols);
    return scores;
  }

  predict(X: Matrix): Float64Array {
    return labelsFromProba(this.predictProba(X), this.classes);
  }

  toJSON(): GbmClassifierJson {
    return {
      kind: 'gbm',
      task: 'classification',
      version: 1,
      nFeatures: this.nFeatures,
      classes: Array.from(this.classes),
      baseline: Array.from(this.ensemble.baseline),
      trees: this.ensemble.trees.map(treeToJSON),
    };
  }

  static fromJSON(json: unknown): GbmClassifier {
    const { nFeatures } = readHeader(json, 'gbm', 'classification');
    const classes = readNumbers(json, 'classes');
    requireClasses(classes);
    return new GbmClassifier(
      classes,
      ensembleFromJSON(json, nFeatures, classes.length === 2 ? 1 : classes.length),
    );
  }
}

/** Fits boosted regression trees on half squared error. */
export function fitGbmRegressor(X: Matrix, y: ArrayLike<number>, params: GbmParams = {}): GbmRegressor {
  checkTraining(X, y);
  const s = settings(params, X.rows);
  return new GbmRegressor(boost(X, Float64Array.from(y), squaredError, s, false));
}

/** Fits boosted classification trees on log loss (binary) or softmax loss (K > 2 classes). */
export function fitGbmClassifier(X: Matrix, y: ArrayLike<number>, params: GbmParams = {}): GbmClassifier {
  checkTraining(X, y);
  const s = settings(params, X.rows);
  const { classes } = encodeLabels(y);
  requireClasses(classes);
  const codes = Float64Array.from(codesOf(y, classes));
  const loss = classes.length === 2 ? binaryLogLoss : softmaxLoss(classes.length);
  return new GbmClassifier(classes, boost(X, codes, loss, s, true));
}
