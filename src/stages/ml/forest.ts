import { StewardError } from '../../errors.ts';
import { binnedData, fitBins } from './binning.ts';
import { CartGrower } from './cart.ts';
import { invalidModel, readArray, readHeader, readNumbers } from './json.ts';
import { codesOf, encodeLabels, labelsFromProba, requireClasses } from './labels.ts';
import { type Matrix, matrix } from './matrix.ts';
import type { Classifier, ModelJsonHeader, Regressor } from './model.ts';
import { createRng } from './random.ts';
import { leafOf, type Tree, type TreeJson, treeFromJSON, treeToJSON } from './tree.ts';
import { checkPredict, checkTraining } from './validate.ts';

/**
 * Random forests with scikit-learn's defaults: 100 fully grown CART trees, each on a
 * bootstrap sample, with √d features tried per split for classification and all d for
 * regression; classification averages the trees' class probabilities (not their votes),
 * regression their values.
 *
 * Trees split on quantile bins of the features (see binning.ts), computed once for the
 * forest, which is what makes growing 100 deep trees on 100k rows practical. With at most
 * 255 distinct values a feature is split exactly as on raw values; beyond that, splits
 * fall between quantiles, which costs a forest almost nothing in accuracy.
 *
 * Each tree draws from its own generator seeded from `seed`, so results do not depend on
 * the order trees are grown in.
 */
export type ForestParams = {
  /** Trees. Default 100. */
  nEstimators?: number;
  /**
   * Features tried per split: 'sqrt' (default for classification), 'log2', 'third'
   * (d/3, the classic regression choice), 'all' (default for regression, as
   * scikit-learn 1.2), a fraction in (0, 1), or a count ≥ 1.
   */
  maxFeatures?: 'sqrt' | 'log2' | 'third' | 'all' | number;
  /** Depth at most. Default unlimited. */
  maxDepth?: number;
  /** Rows needed to consider splitting a node. Default 2. */
  minSamplesSplit?: number;
  /** Rows per leaf at least. Default 1. */
  minSamplesLeaf?: number;
  /** Fit each tree on a bootstrap sample (default) or on every row. */
  bootstrap?: boolean;
  /** Bins per feature at most, 2..256. Default 255. */
  maxBins?: number;
  seed?: number;
};

function featuresPerSplit(option: ForestParams['maxFeatures'], d: number): number {
  const count = (() => {
    switch (option) {
      case 'sqrt':
        return Math.floor(Math.sqrt(d));
      case 'log2':
        return Math.floor(Math.log2(d));
      case 'third':
        return Math.floor(d / 3);
      case 'all':
      case undefined:
        return d;
      default:
        if (!(option > 0)) throw new StewardError('BAD_REQUEST', `maxFeatures must be > 0, got ${option}`);
        return option < 1 ? Math.floor(option * d) : Math.floor(option);
    }
  })();
  return Math.min(d, Math.max(1, count));
}

/** Grows the forest; `target` holds class codes (`classes` > 0) or values. */
function growForest(X: Matrix, target: Float64Array, classes: number, params: ForestParams): Tree[] {
  const nEstimators = params.nEstimators ?? 100;
  const minSamplesLeaf = params.minSamplesLeaf ?? 1;
  const minSamplesSplit = params.minSamplesSplit ?? 2;
  const maxDepth = params.maxDepth ?? Number.POSITIVE_INFINITY;
  const problems: string[] = [];
  if (!Number.isInteger(nEstimators) || nEstimators < 1) problems.push('nEstimators must be an integer ≥ 1');
  if (!Number.isInteger(minSamplesLeaf) || minSamplesLeaf < 1)
    problems.push('minSamplesLeaf must be an integer ≥ 1');
  if (!Number.isInteger(minSamplesSplit) || minSamplesSplit < 2)
    problems.push('minSamplesSplit must be an integer ≥ 2');
  if (!(maxDepth >= 1)) problems.push('maxDepth must be ≥ 1');
  if (problems.length > 0) throw new StewardError('BAD_REQUEST', `random forest: ${problems.join('; ')}`);

  const rng = createRng(params.seed ?? 0);
  const n = X.rows;
  const cuts = fitBins(X, params.maxBins ?? 255, rng);
  const data = binnedData(X, cuts);
  let offset = 0;
  let centred = target;
  if (classes === 0) {
    for (let i = 0; i < n; i++) offset += (target[i] ?? 0) / n;
    centred = target.map((v) => v - offset);
  }
  const grower = new CartGrower(data, centred, {
    classes,
    maxFeatures: featuresPerSplit(params.maxFeatures ?? (classes > 0 ? 'sqrt' : 'all'), X.cols),
    maxDepth,
    minSamplesSplit,
    minSamplesLeaf,
    offset,
  });
  const seeds = Array.from({ length: nEstimators }, () => rng.uint32());
  const weights = new Int32Array(n);
  return seeds.map((seed) => {
    const treeRng = createRng(seed);
    if (params.bootstrap ?? true) {
      weights.fill(0);
      for (let draw = 0; draw < n; draw++) {
        const i = treeRng.int(n);
        weights[i] = (weights[i] ?? 0) + 1;
      }
    } else {
      weights.fill(1);
    }
    return grower.grow(weights, treeRng);
  });
}

/** Mean of the trees' leaf values per row (rows × width). */
function averageLeaves(trees: Tree[], width: number, X: Matrix): Float64Array {
  const { rows, cols, data } = X;
  const out = new Float64Array(rows * width);
  for (const tree of trees) {
    for (let i = 0; i < rows; i++) {
      const from = leafOf(tree, data, i * cols) * width;
      for (let c = 0; c < width; c++)
        out[i * width + c] = (out[i * width + c] ?? 0) + (tree.values[from + c] ?? 0);
    }
  }
  for (let q = 0; q < out.length; q++) out[q] = (out[q] ?? 0) / trees.length;
  return out;
}

function treesFromJSON(json: unknown, nFeatures: number, width: number): Tree[] {
  const trees = readArray(json, 'trees').map((t) => treeFromJSON(t, nFeatures));
  if (trees.length === 0 || trees.some((t) => t.width !== width))
    invalidModel('forest trees do not match its outputs');
  return trees;
}

export type ForestRegressorJson = ModelJsonHeader<'forest', 'regression'> & { trees: TreeJson[] };
export type ForestClassifierJson = ModelJsonHeader<'forest', 'classification'> & {
  classes: number[];
  trees: TreeJson[];
};

export class ForestRegressor implements Regressor {
  readonly kind = 'forest';
  readonly task = 'regression';

  constructor(
    readonly nFeatures: number,
    readonly trees: Tree[],
  ) {}

  predict(X: Matrix): Float64Array {
    checkPredict(X, this.nFeatures);
    return averageLeaves(this.trees, 1, X);
  }

  toJSON(): ForestRegressorJson {
    return {
      kind: 'forest',
      task: 'regression',
      version: 1,
      nFeatures: this.nFeatures,
      trees: this.trees.map(treeToJSON),
    };
  }

  static fromJSON(json: unknown): ForestRegressor {
    const { nFeatures } = readHeader(json, 'forest', 'regression');
    return new ForestRegressor(nFeatures, treesFromJSON(json, nFeatures, 1));
  }
}

export class ForestClassifier implements Classifier {
  readonly kind = 'forest';
  readonly task = 'classification';

  constructor(
    readonly nFeatures: number,
    readonly classes: Float64Array,
    /** Leaves hold class probabilities, `classes.length` values each. */
    readonly trees: Tree[],
  ) {}

  predictProba(X: Matrix): Matrix {
    checkPredict(X, this.nFeatures);
    return matrix(X.rows, this.classes.length, averageLeaves(this.trees, this.classes.length, X));
  }

  predict(X: Matrix): Float64Array {
    return labelsFromProba(this.predictProba(X), this.classes);
  }

  toJSON(): ForestClassifierJson {
    return {
      kind: 'forest',
      task: 'classification',
      version: 1,
      nFeatures: this.nFeatures,
      classes: Array.from(this.classes),
      trees: this.trees.map(treeToJSON),
    };
  }

  static fromJSON(json: unknown): ForestClassifier {
    const { nFeatures } = readHeader(json, 'forest', 'classification');
    const classes = readNumbers(json, 'classes');
    requireClasses(classes);
    return new ForestClassifier(nFeatures, classes, treesFromJSON(json, nFeatures, classes.length));
  }
}

/** Fits a random forest of regression trees (squared error). */
export function fitForestRegressor(
  X: Matrix,
  y: ArrayLike<number>,
  params: ForestParams = {},
): ForestRegressor {
  checkTraining(X, y);
  return new ForestRegressor(X.cols, growForest(X, Float64Array.from(y), 0, params));
}

/** Fits a random forest of classification trees (Gini impurity). */
export function fitForestClassifier(
  X: Matrix,
  y: ArrayLike<number>,
  params: ForestParams = {},
): ForestClassifier {
  checkTraining(X, y);
  const { classes } = encodeLabels(y);
  requireClasses(classes);
  const codes = Float64Array.from(codesOf(y, classes));
  return new ForestClassifier(X.cols, classes, growForest(X, codes, classes.length, params));
}
