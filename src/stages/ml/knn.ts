import { StewardError } from '../../errors.ts';
import { canonical, readHeader, readInt, readNumbers, readString } from './json.ts';
import { codesOf, encodeLabels, labelsFromProba, requireClasses } from './labels.ts';
import { type Matrix, matrix } from './matrix.ts';
import type { Classifier, ModelJsonHeader, Regressor } from './model.ts';
import { checkPredict, checkTraining } from './validate.ts';

/**
 * k-nearest neighbours by brute force, with scikit-learn's `KNeighbors*` semantics:
 * Euclidean distance, uniform or inverse-distance weights, class probabilities as the
 * (weighted) share of each class among the k neighbours.
 *
 * "Fitting" stores the training rows, so a saved model is as large as its training set,
 * and predicting costs O(training rows × query rows × features): right for thousands of
 * rows, not for scoring 100k rows against 100k. Each query keeps its k best in a bounded
 * max-heap (a partial sort). Neighbours at equal distance are taken in training-row
 * order, so results are deterministic.
 *
 * Distances are on raw feature scales, as in scikit-learn; set `standardize` to rescale
 * each feature to zero mean and unit variance (learned on the training rows) first.
 */
export type KnnParams = {
  /** Neighbours per query. Default 5. */
  k?: number;
  /** 'uniform' (default): each neighbour counts once; 'distance': by 1 / distance. */
  weights?: 'uniform' | 'distance';
  /** Standardise features before measuring distance. Default false. */
  standardize?: boolean;
};

type Memory = {
  nFeatures: number;
  k: number;
  weights: 'uniform' | 'distance';
  /** Training rows, already standardised when `scale` is set. */
  rows: Matrix;
  /** Class codes or values, one per training row. */
  targets: Float64Array;
  /** Per-feature (mean, 1/sd) when standardising. */
  scale: { mean: Float64Array; inverseSd: Float64Array } | null;
};

/**
 * Calls `visit(neighbour, weight)` for the k nearest training rows of each query row,
 * after `start(i)` for query row i. Weights follow scikit-learn: with 'distance', a
 * neighbour at distance zero takes all the weight (shared with other exact matches).
 *
 * Queries go four at a time, so each training value loaded serves four distances; that
 * keeps the CPU's arithmetic units busy instead of waiting on memory.
 */
function neighbours(
  memory: Memory,
  X: Matrix,
  start: (i: number) => void,
  visit: (neighbour: number, weight: number) => void,
): void {
  checkPredict(X, memory.nFeatures);
  const { rows: train, k, scale } = memory;
  const d = X.cols;
  const n = train.rows;
  const t = train.data;
  const block = 4;
  const heapD = new Float64Array(block * k);
  const heapI = new Int32Array(block * k);
  const sizes = new Int32Array(block);
  const query = new Float64Array(block * d);
  for (let first = 0; first < X.rows; first += block) {
    const count = Math.min(block, X.rows - first);
    // Unused slots repeat the last query; their results are ignored.
    for (let b = 0; b < block; b++) {
      const i = first + Math.min(b, count - 1);
      for (let j = 0; j < d; j++) {
        const v = X.data[i * d + j] ?? 0;
        query[b * d + j] = scale ? (v - (scale.mean[j] ?? 0)) * (scale.inverseSd[j] ?? 1) : v;
      }
    }
    sizes.fill(0);
    for (let r = 0; r < n; r++) {
      const o = r * d;
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      for (let j = 0; j < d; j++) {
        const v = t[o + j] ?? 0;
        const e0 = v - (query[j] ?? 0);
        const e1 = v - (query[d + j] ?? 0);
        const e2 = v - (query[2 * d + j] ?? 0);
        const e3 = v - (query[3 * d + j] ?? 0);
        d0 += e0 * e0;
        d1 += e1 * e1;
        d2 += e2 * e2;
        d3 += e3 * e3;
      }
      offer(heapD, heapI, sizes, 0, k, d0, r);
      offer(heapD, heapI, sizes, 1, k, d1, r);
      offer(heapD, heapI, sizes, 2, k, d2, r);
      offer(heapD, heapI, sizes, 3, k, d3, r);
    }
    for (let b = 0; b < count; b++) {
      start(first + b);
      const base = b * k;
      if (memory.weights === 'uniform') {
        for (let q = 0; q < k; q++) visit(heapI[base + q] ?? 0, 1);
        continue;
      }
      let exact = false;
      for (let q = 0; q < k; q++) if (heapD[base + q] === 0) exact = true;
      for (let q = 0; q < k; q++) {
        const dist = heapD[base + q] ?? 0;
        visit(heapI[base + q] ?? 0, exact ? (dist === 0 ? 1 : 0) : 1 / Math.sqrt(dist));
      }
    }
  }
}

/**
 * Offers training row `r` at squared distance `dist` to heap `h` (a bounded max-heap in
 * `heapD/heapI[h*k .. (h+1)*k)`, farthest at the root): it enters while the heap is not
 * full, or if it is nearer than the farthest kept. Later rows lose ties, so neighbours
 * at equal distance are taken in training order.
 */
function offer(
  heapD: Float64Array,
  heapI: Int32Array,
  sizes: Int32Array,
  h: number,
  k: number,
  dist: number,
  r: number,
): void {
  const base = h * k;
  const size = sizes[h] ?? 0;
  if (size < k) {
    let c = size;
    sizes[h] = size + 1;
    while (c > 0) {
      const parent = (c - 1) >> 1;
      if (!farther(dist, r, heapD[base + parent] ?? 0, heapI[base + parent] ?? 0)) break;
      heapD[base + c] = heapD[base + parent] ?? 0;
      heapI[base + c] = heapI[base + parent] ?? 0;
      c = parent;
    }
    heapD[base + c] = dist;
    heapI[base + c] = r;
    return;
  }
  if (!(dist < (heapD[base] ?? 0))) return;
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= k) break;
    const rr = l + 1;
    const m =
      rr < k &&
      farther(heapD[base + rr] ?? 0, heapI[base + rr] ?? 0, heapD[base + l] ?? 0, heapI[base + l] ?? 0)
        ? rr
        : l;
    if (!farther(heapD[base + m] ?? 0, heapI[base + m] ?? 0, dist, r)) break;
    heapD[base + c] = heapD[base + m] ?? 0;
    heapI[base + c] = heapI[base + m] ?? 0;
    c = m;
  }
  heapD[base + c] = dist;
  heapI[base + c] = r;
}

/** Heap order: farther first, and at equal distance the later training row. */
function farther(d1: number, i1: number, d2: number, i2: number): boolean {
  return d1 > d2 || (d1 === d2 && i1 > i2);
}

function remember(X: Matrix, targets: Float64Array, params: KnnParams): Memory {
  const k = params.k ?? 5;
  if (!Number.isInteger(k) || k < 1 || k > X.rows) {
    throw new StewardError(
      'BAD_REQUEST',
      `k must be an integer between 1 and the ${X.rows} training rows, got ${k}`,
    );
  }
  const weights = params.weights ?? 'uniform';
  let rows = matrix(X.rows, X.cols, canonical(Float64Array.from(X.data)));
  let scale: Memory['scale'] = null;
  if (params.standardize) {
    const { rows: n, cols: d } = X;
    const mean = new Float64Array(d);
    const inverseSd = new Float64Array(d);
    for (let j = 0; j < d; j++) {
      let m = 0;
      for (let i = 0; i < n; i++) m += (X.data[i * d + j] ?? 0) / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += ((X.data[i * d + j] ?? 0) - m) ** 2 / n;
      mean[j] = m;
      // A constant feature carries no distance information; leave it unscaled.
      inverseSd[j] = v > 0 ? 1 / Math.sqrt(v) : 1;
    }
    const data = rows.data;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++)
        data[i * d + j] = ((data[i * d + j] ?? 0) - (mean[j] ?? 0)) * (inverseSd[j] ?? 1);
    }
    rows = matrix(n, d, canonical(data));
    scale = { mean: canonical(mean), inverseSd };
  }
  return { nFeatures: X.cols, k, weights, rows, targets, scale };
}

type KnnJsonBody = {
  k: number;
  weights: 'uniform' | 'distance';
  /** Training rows (standardised if `mean` is present), row-major. */
  rows: number[];
  targets: number[];
  mean?: number[];
  inverseSd?: number[];
};
export type KnnRegressorJson = ModelJsonHeader<'knn', 'regression'> & KnnJsonBody;
export type KnnClassifierJson = ModelJsonHeader<'knn', 'classification'> &
  KnnJsonBody & { classes: number[] };

function memoryToJSON(m: Memory): KnnJsonBody {
  return {
    k: m.k,
    weights: m.weights,
    rows: Array.from(m.rows.data),
    targets: Array.from(m.targets),
    ...(m.scale ? { mean: Array.from(m.scale.mean), inverseSd: Array.from(m.scale.inverseSd) } : {}),
  };
}

function memoryFromJSON(json: unknown, nFeatures: number): Memory {
  const targets = readNumbers(json, 'targets');
  const rows = matrix(targets.length, nFeatures, readNumbers(json, 'rows', targets.length * nFeatures));
  const k = readInt(json, 'k');
  const weights = readString(json, 'weights');
  if (weights !== 'uniform' && weights !== 'distance') {
    throw new StewardError('BAD_REQUEST', `saved model is not valid: weights is "${weights}"`);
  }
  if (k < 1 || k > targets.length) throw new StewardError('BAD_REQUEST', 'saved model is not valid: bad k');
  const hasScale = typeof json === 'object' && json !== null && 'mean' in json;
  const scale = hasScale
    ? { mean: readNumbers(json, 'mean', nFeatures), inverseSd: readNumbers(json, 'inverseSd', nFeatures) }
    : null;
  return { nFeatures, k, weights, rows, targets, scale };
}

export class KnnRegressor implements Regressor {
  readonly kind = 'knn';
  readonly task = 'regression';

  constructor(private readonly memory: Memory) {}

  get nFeatures(): number {
    return this.memory.nFeatures;
  }

  /** The (weighted) mean target of each row's k nearest training rows. */
  predict(X: Matrix): Float64Array {
    const out = new Float64Array(X.rows);
    const targets = this.memory.targets;
    let row = 0;
    let sum = 0;
    let total = 0;
    const finish = (): void => {
      if (total > 0) out[row] = sum / total;
    };
    neighbours(
      this.memory,
      X,
      (i) => {
        if (i > 0) finish();
        row = i;
        sum = 0;
        total = 0;
      },
      (r, w) => {
        sum += w * (targets[r] ?? 0);
        total += w;
      },
    );
    if (X.rows > 0) finish();
    return out;
  }

  toJSON(): KnnRegressorJson {
    return {
      kind: 'knn',
      task: 'regression',
      version: 1,
      nFeatures: this.nFeatures,
      ...memoryToJSON(this.memory),
    };
  }

  static fromJSON(json: unknown): KnnRegressor {
    const { nFeatures } = readHeader(json, 'knn', 'regression');
    return new KnnRegressor(memoryFromJSON(json, nFeatures));
  }
}

export class KnnClassifier implements Classifier {
  readonly kind = 'knn';
  readonly task = 'classification';

  constructor(
    readonly classes: Float64Array,
    private readonly memory: Memory,
  ) {}

  get nFeatures(): number {
    return this.memory.nFeatures;
  }

  /** The (weighted) share of each class among each row's k nearest training rows. */
  predictProba(X: Matrix): Matrix {
    const k = this.classes.length;
    const out = new Float64Array(X.rows * k);
    const codes = this.memory.targets;
    let row = 0;
    const normalise = (): void => {
      let total = 0;
      for (let c = 0; c < k; c++) total += out[row * k + c] ?? 0;
      if (total > 0) for (let c = 0; c < k; c++) out[row * k + c] = (out[row * k + c] ?? 0) / total;
    };
    neighbours(
      this.memory,
      X,
      (i) => {
        if (i > 0) normalise();
        row = i;
      },
      (r, w) => {
        const q = row * k + (codes[r] ?? 0);
        out[q] = (out[q] ?? 0) + w;
      },
    );
    if (X.rows > 0) normalise();
    return matrix(X.rows, k, out);
  }

  predict(X: Matrix): Float64Array {
    return labelsFromProba(this.predictProba(X), this.classes);
  }

  toJSON(): KnnClassifierJson {
    return {
      kind: 'knn',
      task: 'classification',
      version: 1,
      nFeatures: this.nFeatures,
      classes: Array.from(this.classes),
      ...memoryToJSON(this.memory),
    };
  }

  static fromJSON(json: unknown): KnnClassifier {
    const { nFeatures } = readHeader(json, 'knn', 'classification');
    const classes = readNumbers(json, 'classes');
    requireClasses(classes);
    const memory = memoryFromJSON(json, nFeatures);
    codesOf(memory.targets, Float64Array.from(classes.keys()));
    return new KnnClassifier(classes, memory);
  }
}

/** Stores the training set for k-NN regression. */
export function fitKnnRegressor(X: Matrix, y: ArrayLike<number>, params: KnnParams = {}): KnnRegressor {
  checkTraining(X, y);
  return new KnnRegressor(remember(X, canonical(Float64Array.from(y)), params));
}

/** Stores the training set for k-NN classification. */
export function fitKnnClassifier(X: Matrix, y: ArrayLike<number>, params: KnnParams = {}): KnnClassifier {
  checkTraining(X, y);
  const { classes, codes } = encodeLabels(y);
  requireClasses(classes);
  return new KnnClassifier(classes, remember(X, Float64Array.from(codes), params));
}
