import { StewardError } from '../../errors.ts';
import { encodeLabels } from './labels.ts';
import { createRng, type Rng } from './random.ts';

/**
 * Row indices for holding data out. Splits are seeded so a run's evaluation can be
 * reproduced exactly, and stratified on request so that a rare class is represented in
 * every part in proportion (otherwise a 2% class can vanish from a small test set and
 * AUC becomes undefined). Index arrays come back sorted ascending.
 */
export type Split = { train: Int32Array; test: Int32Array };

export type HoldoutOptions = {
  /** Fraction of rows in the test part, in (0, 1). Default 0.25, as scikit-learn. */
  testFraction?: number;
  seed?: number;
  /** Class labels to stratify on (one per row). */
  stratify?: ArrayLike<number>;
};

function sorted(values: number[]): Int32Array {
  return Int32Array.from(values).sort();
}

/** Indices of each class, in row order. */
function byClass(labels: ArrayLike<number>): number[][] {
  const { classes, codes } = encodeLabels(labels);
  const groups = Array.from(classes, (): number[] => []);
  codes.forEach((c, i) => {
    groups[c]?.push(i);
  });
  return groups;
}

/**
 * One train/test split. The test part has ceil(n · testFraction) rows. Stratified, each
 * class gives its proportional share, with the rounding remainder going to the classes
 * with the largest fractional shares.
 */
export function holdoutSplit(n: number, options: HoldoutOptions = {}): Split {
  const fraction = options.testFraction ?? 0.25;
  if (!(fraction > 0 && fraction < 1)) {
    throw new StewardError('BAD_REQUEST', `testFraction must be between 0 and 1, got ${fraction}`);
  }
  const nTest = Math.ceil(n * fraction);
  if (nTest < 1 || nTest >= n) {
    throw new StewardError(
      'BAD_REQUEST',
      `cannot hold out ${fraction} of ${n} rows and keep both parts non-empty`,
    );
  }
  const rng = createRng(options.seed ?? 0);
  if (!options.stratify) {
    const order = rng.permutation(n);
    return { test: order.slice(0, nTest).sort(), train: order.slice(nTest).sort() };
  }
  if (options.stratify.length !== n) {
    throw new StewardError('BAD_REQUEST', `stratify has ${options.stratify.length} labels for ${n} rows`);
  }
  const groups = byClass(options.stratify);
  const shares = groups.map((g) => (g.length * nTest) / n);
  const take = shares.map(Math.floor);
  let missing = nTest - take.reduce((a, b) => a + b, 0);
  const byRemainder = shares
    .map((s, c) => ({ c, r: s - Math.floor(s) }))
    .sort((a, b) => b.r - a.r || a.c - b.c);
  for (const { c } of byRemainder) {
    if (missing === 0) break;
    take[c] = (take[c] ?? 0) + 1;
    missing--;
  }
  const test: number[] = [];
  const train: number[] = [];
  groups.forEach((group, c) => {
    rng.shuffle(group);
    const t = take[c] ?? 0;
    group.forEach((i, position) => {
      (position < t ? test : train).push(i);
    });
  });
  return { train: sorted(train), test: sorted(test) };
}

export type KFoldOptions = {
  seed?: number;
  /** Shuffle rows before dealing them into folds. Default true. */
  shuffle?: boolean;
  /** Class labels to stratify on (one per row). */
  stratify?: ArrayLike<number>;
};

/**
 * k train/test splits whose test parts partition the rows; fold sizes differ by at most
 * one. Stratified, rows are ordered by class (shuffled within each class) and dealt to
 * folds in turn, so every fold also gets each class's count to within one.
 */
export function kFold(n: number, k: number, options: KFoldOptions = {}): Split[] {
  if (!Number.isInteger(k) || k < 2 || k > n) {
    throw new StewardError('BAD_REQUEST', `k-fold needs 2 ≤ k ≤ ${n} (rows), got k = ${k}`);
  }
  const rng: Rng = createRng(options.seed ?? 0);
  const shuffle = options.shuffle ?? true;
  const fold = new Int32Array(n);
  if (options.stratify) {
    if (options.stratify.length !== n) {
      throw new StewardError('BAD_REQUEST', `stratify has ${options.stratify.length} labels for ${n} rows`);
    }
    let position = 0;
    for (const group of byClass(options.stratify)) {
      if (shuffle) rng.shuffle(group);
      for (const i of group) fold[i] = position++ % k;
    }
  } else {
    const order = shuffle ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
    // Contiguous chunks of the (shuffled) order, the larger ones first, like scikit-learn.
    let start = 0;
    for (let f = 0; f < k; f++) {
      const size = Math.floor(n / k) + (f < n % k ? 1 : 0);
      for (let p = start; p < start + size; p++) fold[order[p] ?? 0] = f;
      start += size;
    }
  }
  const splits: Split[] = [];
  for (let f = 0; f < k; f++) {
    const test: number[] = [];
    const train: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? test : train).push(i);
    splits.push({ train: Int32Array.from(train), test: Int32Array.from(test) });
  }
  return splits;
}
