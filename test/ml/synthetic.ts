import { type Matrix, matrix } from '../../src/stages/ml/matrix.ts';
import { createRng } from '../../src/stages/ml/random.ts';

/**
 * Seeded synthetic datasets for the model tests (and local timing). They are small
 * re-implementations of scikit-learn's generators, so a result here can be compared with
 * the same recipe in a notebook.
 */
export type Dataset = { X: Matrix; y: Float64Array };

export type ClassificationOptions = {
  informative?: number;
  redundant?: number;
  classes?: number;
  clustersPerClass?: number;
  /** Fraction of labels replaced at random. */
  flip?: number;
  classSep?: number;
};

/**
 * scikit-learn's `make_classification`: Gaussian clusters on the vertices of a hypercube
 * in the informative dimensions (each with a random covariance), redundant features as
 * random linear combinations of those, the rest pure noise, then a few labels flipped.
 */
export function makeClassification(
  n: number,
  d: number,
  seed: number,
  options: ClassificationOptions = {},
): Dataset {
  const rng = createRng(seed);
  const informative = options.informative ?? 2;
  const redundant = options.redundant ?? 2;
  const classes = options.classes ?? 2;
  const perClass = options.clustersPerClass ?? 2;
  const flip = options.flip ?? 0.01;
  const sep = options.classSep ?? 1;
  const clusters = classes * perClass;

  // Distinct hypercube vertices as cluster centres.
  const vertices = rng.permutation(2 ** informative).subarray(0, clusters);
  const centres = Array.from(vertices, (v) =>
    Array.from({ length: informative }, (_, j) => (((v >> j) & 1) * 2 - 1) * sep),
  );
  const covariances = centres.map(() =>
    Array.from({ length: informative * informative }, () => 2 * rng.next() - 1),
  );
  const mix = Array.from({ length: informative * redundant }, () => 2 * rng.next() - 1);

  const data = new Float64Array(n * d);
  const y = new Float64Array(n);
  const z = new Float64Array(informative);
  for (let i = 0; i < n; i++) {
    const cluster = i % clusters;
    y[i] = cluster % classes;
    const a = covariances[cluster] ?? [];
    const centre = centres[cluster] ?? [];
    for (let j = 0; j < informative; j++) z[j] = rng.normal();
    for (let j = 0; j < informative; j++) {
      let v = centre[j] ?? 0;
      for (let k = 0; k < informative; k++) v += (z[k] ?? 0) * (a[k * informative + j] ?? 0);
      data[i * d + j] = v;
    }
    for (let r = 0; r < redundant; r++) {
      let v = 0;
      for (let j = 0; j < informative; j++) v += (data[i * d + j] ?? 0) * (mix[j * redundant + r] ?? 0);
      data[i * d + informative + r] = v;
    }
    for (let j = informative + redundant; j < d; j++) data[i * d + j] = rng.normal();
    if (rng.next() < flip) y[i] = rng.int(classes);
  }
  // Shuffle rows so classes and clusters are not in a pattern.
  const order = rng.permutation(n);
  const shuffled = new Float64Array(n * d);
  const ys = new Float64Array(n);
  order.forEach((from, to) => {
    shuffled.set(data.subarray(from * d, (from + 1) * d), to * d);
    ys[to] = y[from] ?? 0;
  });
  return { X: matrix(n, d, shuffled), y: ys };
}

/**
 * A regression target with linear, interaction and smooth non-linear parts plus Gaussian
 * noise: y = Σ βⱼxⱼ (first 5 features) + 2·sin(2x₀) + x₁x₂ + noise·ε, features ~ N(0, 1).
 */
export function makeRegression(n: number, d: number, seed: number, noise = 0.5): Dataset {
  const rng = createRng(seed);
  const beta = [1.5, -2, 1, 0.5, -1];
  const data = new Float64Array(n * d);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) data[i * d + j] = rng.normal();
    const x = (j: number): number => data[i * d + j] ?? 0;
    let v = 2 * Math.sin(2 * x(0)) + x(1) * x(2);
    for (let j = 0; j < Math.min(5, d); j++) v += (beta[j] ?? 0) * x(j);
    y[i] = v + noise * rng.normal();
  }
  return { X: matrix(n, d, data), y };
}

/** A constant predictor's RMSE (the target's standard deviation). */
export function baselineRmse(y: Float64Array): number {
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  return Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length);
}

/** The accuracy of always predicting the most frequent label. */
export function baselineAccuracy(y: Float64Array): number {
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  return Math.max(...counts.values()) / y.length;
}
