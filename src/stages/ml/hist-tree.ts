import type { BinnedData } from './binning.ts';
import { addToHistogram } from './histogram.ts';
import { type Tree, TreeBuilder } from './tree.ts';

/**
 * Grows one gradient-boosting tree on binned data, LightGBM/scikit-learn style:
 *
 * - Per node, a histogram holds the sums of gradient, hessian and row count per bin of
 *   every feature; the best split of a feature is one left-to-right scan of its bins.
 * - Only the smaller child's histogram is built from rows; the larger one is the parent's
 *   minus it (the "subtraction trick"), so each level costs at most half the rows.
 * - Growth is best-first: the leaf whose split gains most is split next, up to
 *   `maxLeafNodes`, which spends the leaf budget where the loss drops most.
 * - Gain and leaf values are the second-order ones: split gain
 *   G_L²/(H_L+λ) + G_R²/(H_R+λ) - G²/(H+λ), leaf value -G/(H+λ) times the learning rate.
 *
 * Rows are kept as one index array partitioned in place, so each leaf is a contiguous
 * range of it, and the caller updates its predictions leaf by leaf without walking the tree.
 */
export type HistTreeParams = {
  maxLeafNodes: number;
  /** Depth limit (root = 0); Infinity for none. */
  maxDepth: number;
  minSamplesLeaf: number;
  /** λ, the L2 penalty on leaf values. */
  l2: number;
  /** Minimum hessian sum in a child. */
  minHessian: number;
  learningRate: number;
};

export type Leaf = { start: number; end: number; value: number };
export type GrownTree = {
  tree: Tree;
  leaves: Leaf[];
  /** Row indices; leaf l holds `order[leaves[l].start .. leaves[l].end)`. */
  order: Int32Array;
};

type Split = { gain: number; feature: number; bin: number; g: number; h: number; n: number };
type Node = {
  id: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array | null;
  split: Split | null;
};

/**
 * Reusable buffers for growing many trees on the same data: allocating a few MB of
 * histograms per tree would otherwise dominate the garbage collector's work.
 */
export class HistTreeGrower {
  private readonly order: Int32Array;
  private readonly scratch: Int32Array;
  private readonly orderedGrad: Float64Array;
  private readonly orderedHess: Float64Array;
  private readonly pool: Float64Array[] = [];

  constructor(
    private readonly data: BinnedData,
    private readonly params: HistTreeParams,
  ) {
    this.order = new Int32Array(data.rows);
    this.scratch = new Int32Array(data.rows);
    this.orderedGrad = new Float64Array(data.rows);
    this.orderedHess = new Float64Array(data.rows);
  }

  /** Grows a tree for gradients `grad` and hessians `hess` (one per row). */
  grow(grad: Float64Array, hess: Float64Array): GrownTree {
    const { rows: n } = this.data;
    const p = this.params;
    const order = this.order;
    for (let i = 0; i < n; i++) order[i] = i;
    const builder = new TreeBuilder(1);
    let g = 0;
    let h = 0;
    for (let i = 0; i < n; i++) {
      g += grad[i] ?? 0;
      h += hess[i] ?? 0;
    }
    const root: Node = { id: builder.leaf(), start: 0, end: n, depth: 0, g, h, hist: null, split: null };
    root.hist = this.histogram(root, grad, hess);
    root.split = this.bestSplit(root);

    const open: Node[] = [root];
    const done: Node[] = [];
    let leafCount = 1;
    while (leafCount < p.maxLeafNodes) {
      let best = -1;
      for (let k = 0; k < open.length; k++) {
        const gain = open[k]?.split?.gain ?? 0;
        if (best < 0 || gain > (open[best]?.split?.gain ?? 0)) best = k;
      }
      const node = best >= 0 ? open[best] : undefined;
      if (!node?.split) break;
      open.splice(best, 1);
      const [leftNode, rightNode] = this.splitNode(node, builder);
      leafCount++;
      // Histograms: build the smaller child's, derive the larger's from the parent's.
      const [small, large] =
        leftNode.end - leftNode.start <= rightNode.end - rightNode.start
          ? [leftNode, rightNode]
          : [rightNode, leftNode];
      const parentHist = node.hist;
      node.hist = null;
      small.hist = this.histogram(small, grad, hess);
      if (parentHist) {
        const smallHist = small.hist;
        for (let q = 0; q < parentHist.length; q++)
          parentHist[q] = (parentHist[q] ?? 0) - (smallHist[q] ?? 0);
      }
      large.hist = parentHist;
      for (const child of [leftNode, rightNode]) {
        child.split = this.canSplit(child) ? this.bestSplit(child) : null;
        if (child.split) {
          open.push(child);
        } else {
          this.release(child);
          done.push(child);
        }
      }
    }
    const leaves: Leaf[] = [];
    for (const node of [...done, ...open]) {
      this.release(node);
      const value = (-node.g / (node.h + p.l2)) * p.learningRate;
      builder.setValues(node.id, [value]);
      leaves.push({ start: node.start, end: node.end, value });
    }
    return { tree: builder.build(), leaves, order };
  }

  private canSplit(node: Node): boolean {
    const p = this.params;
    return node.depth < p.maxDepth && node.end - node.start >= 2 * p.minSamplesLeaf;
  }

  private release(node: Node): void {
    if (node.hist) this.pool.push(node.hist);
    node.hist = null;
  }

  /** Per bin of every feature: [Σ gradient, Σ hessian, rows], interleaved (see histogram.ts). */
  private histogram(node: Node, grad: Float64Array, hess: Float64Array): Float64Array {
    const { rows: n, bins, offsets, totalBins } = this.data;
    const hist = this.pool.pop() ?? new Float64Array(totalBins * 3);
    hist.fill(0);
    const { start, end } = node;
    const order = this.order;
    const og = this.orderedGrad;
    const oh = this.orderedHess;
    // Gather the node's gradients once, so the per-feature passes read them sequentially.
    for (let k = start; k < end; k++) {
      const i = order[k] ?? 0;
      og[k] = grad[i] ?? 0;
      oh[k] = hess[i] ?? 0;
    }
    addToHistogram(hist, bins, n, offsets, order, start, end, og, oh);
    return hist;
  }

  /** The best (feature, bin) split of a node, or null if none gains or respects the limits. */
  private bestSplit(node: Node): Split | null {
    const { cols: d, offsets } = this.data;
    const { l2, minSamplesLeaf, minHessian } = this.params;
    const hist = node.hist;
    if (!hist) return null;
    const count = node.end - node.start;
    const { g, h } = node;
    const parentScore = (g * g) / (h + l2);
    let best: Split | null = null;
    let bestGain = 1e-12 * Math.abs(parentScore);
    for (let f = 0; f < d; f++) {
      const from = offsets[f] ?? 0;
      const to = (offsets[f + 1] ?? 0) - 1;
      let gl = 0;
      let hl = 0;
      let nl = 0;
      for (let b = from; b < to; b++) {
        gl += hist[3 * b] ?? 0;
        hl += hist[3 * b + 1] ?? 0;
        nl += hist[3 * b + 2] ?? 0;
        if (nl < minSamplesLeaf || hl < minHessian) continue;
        const nr = count - nl;
        const hr = h - hl;
        if (nr < minSamplesLeaf || hr < minHessian) break;
        const gr = g - gl;
        const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          best = { gain, feature: f, bin: b - from, g: gl, h: hl, n: nl };
        }
      }
    }
    return best;
  }

  /** Partitions the node's rows (stably) and records the split in the tree. */
  private splitNode(node: Node, builder: TreeBuilder): [Node, Node] {
    const split = node.split;
    if (!split) throw new Error('splitNode: node has no split');
    const { rows: n, bins, cuts } = this.data;
    const order = this.order;
    const scratch = this.scratch;
    const l = partition(order, scratch, bins, split.feature * n, split.bin, node.start, node.end);
    const threshold = cuts.thresholds[split.feature]?.[split.bin] ?? 0;
    const [leftId, rightId] = builder.split(node.id, split.feature, threshold);
    const depth = node.depth + 1;
    const left: Node = {
      id: leftId,
      start: node.start,
      end: l,
      depth,
      g: split.g,
      h: split.h,
      hist: null,
      split: null,
    };
    const right: Node = {
      id: rightId,
      start: l,
      end: node.end,
      depth,
      g: node.g - split.g,
      h: node.h - split.h,
      hist: null,
      split: null,
    };
    return [left, right];
  }
}

/**
 * Stable in-place partition of `order[start, end)`: rows whose bin is ≤ `bin` first.
 * Returns where the right part begins. Stability keeps each node's rows in ascending
 * order, so histogram loops read the bin columns front to back.
 */
function partition(
  order: Int32Array,
  scratch: Int32Array,
  bins: Uint8Array,
  column: number,
  bin: number,
  start: number,
  end: number,
): number {
  let l = start;
  let r = 0;
  for (let k = start; k < end; k++) {
    const i = order[k] ?? 0;
    if ((bins[column + i] ?? 0) <= bin) order[l++] = i;
    else scratch[r++] = i;
  }
  for (let k = 0; k < r; k++) order[l + k] = scratch[k] ?? 0;
  return l;
}
