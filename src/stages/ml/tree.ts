import { canonical, invalidModel, readInt, readInts, readNumbers } from './json.ts';

/**
 * A fitted decision tree in flat typed arrays, shared by boosting and the forest.
 *
 * Internal node i sends a row left when `x[feature[i]] <= threshold[i]`. A child reference
 * c ≥ 0 is another internal node; c < 0 is leaf ~c, whose `width` values start at
 * `values[~c * width]` (one value for boosting and regression, class probabilities for a
 * forest classifier). A tree with no internal nodes is the single leaf 0. Flat arrays
 * make prediction a tight loop without pointer chasing through objects, and serialise to
 * JSON as a handful of number arrays.
 */
export type Tree = {
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  values: Float64Array;
  width: number;
};

/** The leaf that row `offset / nFeatures` of `data` (row-major) falls into. */
export function leafOf(tree: Tree, data: Float64Array, offset: number): number {
  const { feature, threshold, left, right } = tree;
  if (feature.length === 0) return 0;
  let node = 0;
  for (;;) {
    const next =
      (data[offset + (feature[node] ?? 0)] ?? 0) <= (threshold[node] ?? 0)
        ? (left[node] ?? 0)
        : (right[node] ?? 0);
    if (next < 0) return ~next;
    node = next;
  }
}

/**
 * Grows a tree one node at a time: nodes start as leaves and may later be split, which
 * suits both depth-first (forest) and best-first (boosting) growth. `build` renumbers
 * into the compact form above.
 */
export class TreeBuilder {
  private readonly features: number[] = [];
  private readonly thresholds: number[] = [];
  private readonly lefts: number[] = [];
  private readonly rights: number[] = [];
  private readonly leafValues: (ArrayLike<number> | null)[] = [];

  constructor(private readonly width: number) {}

  /** Adds a leaf node and returns its id. */
  leaf(values: ArrayLike<number> | null = null): number {
    this.features.push(-1);
    this.thresholds.push(0);
    this.lefts.push(-1);
    this.rights.push(-1);
    this.leafValues.push(values);
    return this.features.length - 1;
  }

  /** Sets a leaf's values (for a leaf whose value is known only once it stops growing). */
  setValues(id: number, values: ArrayLike<number>): void {
    this.leafValues[id] = values;
  }

  /** Turns leaf `id` into a split with two new leaf children; returns their ids. */
  split(id: number, feature: number, threshold: number): [number, number] {
    const left = this.leaf();
    const right = this.leaf();
    this.features[id] = feature;
    this.thresholds[id] = threshold;
    this.lefts[id] = left;
    this.rights[id] = right;
    this.leafValues[id] = null;
    return [left, right];
  }

  build(): Tree {
    const internal = new Map<number, number>();
    const leaves = new Map<number, number>();
    // Pre-order numbering, so the root is internal node 0 and parents precede children.
    const stack = [0];
    while (stack.length > 0) {
      const id = stack.pop() ?? 0;
      if ((this.features[id] ?? -1) < 0) {
        leaves.set(id, leaves.size);
      } else {
        internal.set(id, internal.size);
        stack.push(this.rights[id] ?? 0, this.lefts[id] ?? 0);
      }
    }
    const ref = (id: number): number => internal.get(id) ?? ~(leaves.get(id) ?? 0);
    const tree: Tree = {
      feature: new Int32Array(internal.size),
      threshold: new Float64Array(internal.size),
      left: new Int32Array(internal.size),
      right: new Int32Array(internal.size),
      values: new Float64Array(leaves.size * this.width),
      width: this.width,
    };
    for (const [id, k] of internal) {
      tree.feature[k] = this.features[id] ?? 0;
      tree.threshold[k] = this.thresholds[id] ?? 0;
      tree.left[k] = ref(this.lefts[id] ?? 0);
      tree.right[k] = ref(this.rights[id] ?? 0);
    }
    for (const [id, k] of leaves) {
      const values = this.leafValues[id];
      if (!values || values.length !== this.width) throw new Error(`tree leaf ${id} has no values`);
      tree.values.set(values, k * this.width);
    }
    canonical(tree.threshold);
    canonical(tree.values);
    return tree;
  }
}

export type TreeJson = {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  values: number[];
  width: number;
};

export function treeToJSON(tree: Tree): TreeJson {
  return {
    feature: Array.from(tree.feature),
    threshold: Array.from(tree.threshold),
    left: Array.from(tree.left),
    right: Array.from(tree.right),
    values: Array.from(tree.values),
    width: tree.width,
  };
}

/** Reads a tree and checks that every reference stays inside it, so prediction cannot loop or overrun. */
export function treeFromJSON(json: unknown, nFeatures: number): Tree {
  const width = readInt(json, 'width');
  const feature = readInts(json, 'feature');
  const internal = feature.length;
  const threshold = readNumbers(json, 'threshold', internal);
  const left = readInts(json, 'left', internal);
  const right = readInts(json, 'right', internal);
  const values = readNumbers(json, 'values');
  if (width < 1 || values.length % width !== 0) invalidModel('tree values do not match its width');
  const leaves = values.length / width;
  if (leaves !== internal + 1) invalidModel('a binary tree needs one more leaf than splits');
  for (let k = 0; k < internal; k++) {
    const f = feature[k] ?? -1;
    if (f < 0 || f >= nFeatures) invalidModel(`tree node ${k} splits on feature ${f}`);
    for (const child of [left[k] ?? 0, right[k] ?? 0]) {
      // Pre-order numbering means children always come after their parent.
      if (child >= 0 ? child <= k || child >= internal : ~child >= leaves) {
        invalidModel(`tree node ${k} has a bad child reference ${child}`);
      }
    }
  }
  return { feature, threshold, left, right, values, width };
}
