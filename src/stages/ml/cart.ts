import type { BinnedData } from './binning.ts';
import type { Rng } from './random.ts';
import { type Tree, TreeBuilder } from './tree.ts';

/**
 * Grows one CART tree for the random forest on binned features, the way scikit-learn's
 * `DecisionTreeClassifier/Regressor` does with `splitter='best'`: depth-first, Gini
 * impurity (classification) or squared error (regression), a fresh random subset of
 * features per node, and rows weighted by how often the bootstrap drew them.
 *
 * Split search runs over bins instead of sorted values. For each candidate feature it
 * tallies the node's rows per bin, remembering which bins were touched, so a node of 5
 * rows costs 5 updates rather than a scan of 255 bins; deep trees are mostly small nodes.
 */
export type CartParams = {
  /** Classes (classification) or 0 (regression). */
  classes: number;
  /** Features examined per node (non-constant ones; more if those gave no split). */
  maxFeatures: number;
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  /**
   * Added to regression leaf values. The forest centres the target and passes its mean
   * here, so split scores (sums of squares) are not swamped by a large common offset.
   */
  offset: number;
};

type Stats = { weight: number; counts: Float64Array; sum: number };
type Best = { feature: number; bin: number; score: number; left: Stats };

/** Buffers for growing many trees on the same data. */
export class CartGrower {
  private readonly order: Int32Array;
  private readonly scratch: Int32Array;
  private readonly binRows = new Int32Array(256);
  private readonly touched = new Int32Array(256);
  private readonly binCounts: Float64Array;
  private readonly binSum = new Float64Array(256);
  private readonly binWeight = new Float64Array(256);
  private readonly features: Int32Array;

  /**
   * `target` holds class codes (classification) or values (regression), one per row of
   * the binned data.
   */
  constructor(
    private readonly data: BinnedData,
    private readonly target: Float64Array,
    private readonly params: CartParams,
  ) {
    this.order = new Int32Array(data.rows);
    this.scratch = new Int32Array(data.rows);
    this.binCounts = new Float64Array(256 * Math.max(params.classes, 1));
    this.features = new Int32Array(data.cols);
  }

  /** Grows a tree on the rows with weight > 0 (bootstrap counts, or all ones). */
  grow(weights: Int32Array, rng: Rng): Tree {
    const k = this.params.classes;
    const builder = new TreeBuilder(Math.max(k, 1));
    let n = 0;
    for (let i = 0; i < weights.length; i++) if ((weights[i] ?? 0) > 0) this.order[n++] = i;
    const rootStats = this.stats(weights, 0, n);
    const stack: { id: number; start: number; end: number; depth: number; stats: Stats }[] = [
      { id: builder.leaf(), start: 0, end: n, depth: 0, stats: rootStats },
    ];
    while (stack.length > 0) {
      const node = stack.pop();
      if (!node) break;
      const best = this.splittable(node.start, node.end, node.depth, node.stats)
        ? this.bestSplit(weights, node.start, node.end, node.stats, rng)
        : null;
      if (!best) {
        builder.setValues(node.id, this.leafValue(node.stats));
        continue;
      }
      const mid = this.partition(best.feature, best.bin, node.start, node.end);
      const threshold = this.data.cuts.thresholds[best.feature]?.[best.bin] ?? 0;
      const [leftId, rightId] = builder.split(node.id, best.feature, threshold);
      const right = subtract(node.stats, best.left);
      // Right pushed first so the left subtree is grown first (pre-order, like scikit-learn).
      stack.push({ id: rightId, start: mid, end: node.end, depth: node.depth + 1, stats: right });
      stack.push({ id: leftId, start: node.start, end: mid, depth: node.depth + 1, stats: best.left });
    }
    return builder.build();
  }

  private splittable(start: number, end: number, depth: number, stats: Stats): boolean {
    const p = this.params;
    const rows = end - start;
    if (depth >= p.maxDepth || rows < p.minSamplesSplit || rows < 2 * p.minSamplesLeaf) return false;
    // Pure nodes cannot improve.
    if (p.classes > 0) {
      for (let c = 0; c < p.classes; c++) if ((stats.counts[c] ?? 0) === stats.weight) return false;
      return true;
    }
    const first = this.target[this.order[start] ?? 0];
    for (let q = start + 1; q < end; q++) if (this.target[this.order[q] ?? 0] !== first) return true;
    return false;
  }

  private stats(weights: Int32Array, start: number, end: number): Stats {
    const k = this.params.classes;
    const s: Stats = { weight: 0, counts: new Float64Array(Math.max(k, 1)), sum: 0 };
    for (let q = start; q < end; q++) {
      const i = this.order[q] ?? 0;
      const w = weights[i] ?? 0;
      const y = this.target[i] ?? 0;
      s.weight += w;
      if (k > 0) s.counts[y] = (s.counts[y] ?? 0) + w;
      else s.sum += w * y;
    }
    return s;
  }

  private leafValue(stats: Stats): Float64Array {
    if (this.params.classes > 0) return stats.counts.map((c) => c / stats.weight);
    return Float64Array.of(stats.sum / stats.weight + this.params.offset);
  }

  /**
   * Tries features in random order until `maxFeatures` features that are not constant in
   * the node have been examined, and past that only while no valid split has been found
   * (as scikit-learn documents: it never settles for a leaf while a feature could split).
   */
  private bestSplit(weights: Int32Array, start: number, end: number, parent: Stats, rng: Rng): Best | null {
    const d = this.data.cols;
    const features = this.features;
    for (let f = 0; f < d; f++) features[f] = f;
    let examined = 0;
    let best: Best | null = null;
    let toBeat = Number.NEGATIVE_INFINITY;
    for (let remaining = d; remaining > 0; remaining--) {
      if (examined >= this.params.maxFeatures && best) break;
      const pick = rng.int(remaining);
      const feature = features[pick] ?? 0;
      features[pick] = features[remaining - 1] ?? 0;
      features[remaining - 1] = feature;
      const result: Best | 'constant' | null =
        this.params.classes > 0
          ? this.scanClassification(feature, weights, start, end, parent, toBeat)
          : this.scanRegression(feature, weights, start, end, parent, toBeat);
      if (result === 'constant') continue;
      examined++;
      if (result) {
        best = result;
        toBeat = result.score;
      }
    }
    return best;
  }

  /** Tallies the node's rows per bin of `feature`; returns how many bins were touched. */
  private tally(feature: number, weights: Int32Array, start: number, end: number): number {
    const { rows: n, bins } = this.data;
    const k = this.params.classes;
    const column = feature * n;
    const { binRows, touched, binCounts, binSum, binWeight, order, target } = this;
    let t = 0;
    for (let q = start; q < end; q++) {
      const i = order[q] ?? 0;
      const b = bins[column + i] ?? 0;
      const w = weights[i] ?? 0;
      if (binRows[b] === 0) touched[t++] = b;
      binRows[b] = (binRows[b] ?? 0) + 1;
      if (k > 0) {
        const slot = b * k + (target[i] ?? 0);
        binCounts[slot] = (binCounts[slot] ?? 0) + w;
      } else {
        binSum[b] = (binSum[b] ?? 0) + w * (target[i] ?? 0);
        binWeight[b] = (binWeight[b] ?? 0) + w;
      }
    }
    if (t > 32) {
      touched.subarray(0, t).sort();
    } else {
      // Insertion sort: small nodes dominate deep trees, and this avoids a view and a call.
      for (let u = 1; u < t; u++) {
        const v = touched[u] ?? 0;
        let w = u - 1;
        for (; w >= 0 && (touched[w] ?? 0) > v; w--) touched[w + 1] = touched[w] ?? 0;
        touched[w + 1] = v;
      }
    }
    return t;
  }

  private scanClassification(
    feature: number,
    weights: Int32Array,
    start: number,
    end: number,
    parent: Stats,
    toBeat: number,
  ): Best | 'constant' | null {
    const k = this.params.classes;
    const minLeaf = this.params.minSamplesLeaf;
    const t = this.tally(feature, weights, start, end);
    const { binRows, touched, binCounts } = this;
    let result: Best | 'constant' | null = t <= 1 ? 'constant' : null;
    if (t > 1) {
      const rows = end - start;
      const left = new Float64Array(k);
      let wl = 0;
      let nl = 0;
      let sqL = 0;
      let sqR = 0;
      for (let c = 0; c < k; c++) sqR += (parent.counts[c] ?? 0) ** 2;
      // A split must lower the impurity: Σ L²/W_L + Σ R²/W_R must exceed Σ P²/W.
      let bestScore = Math.max(toBeat, (sqR / parent.weight) * (1 + 1e-12));
      let bestBin = -1;
      for (let u = 0; u < t - 1; u++) {
        const b = touched[u] ?? 0;
        nl += binRows[b] ?? 0;
        for (let c = 0; c < k; c++) {
          const w = binCounts[b * k + c] ?? 0;
          if (w === 0) continue;
          const l = left[c] ?? 0;
          const r = (parent.counts[c] ?? 0) - l;
          sqL += 2 * l * w + w * w;
          sqR += -2 * r * w + w * w;
          left[c] = l + w;
          wl += w;
        }
        if (nl < minLeaf) continue;
        if (rows - nl < minLeaf) break;
        const score = sqL / wl + sqR / (parent.weight - wl);
        if (score > bestScore) {
          bestScore = score;
          bestBin = b;
        }
      }
      if (bestBin >= 0) {
        const counts = new Float64Array(k);
        let weight = 0;
        for (let u = 0; u < t; u++) {
          const b = touched[u] ?? 0;
          if (b > bestBin) break;
          for (let c = 0; c < k; c++) counts[c] = (counts[c] ?? 0) + (binCounts[b * k + c] ?? 0);
        }
        for (let c = 0; c < k; c++) weight += counts[c] ?? 0;
        result = { feature, bin: bestBin, score: bestScore, left: { weight, counts, sum: 0 } };
      }
    }
    for (let u = 0; u < t; u++) {
      const b = touched[u] ?? 0;
      binRows[b] = 0;
      binCounts.fill(0, b * k, (b + 1) * k);
    }
    return result;
  }

  private scanRegression(
    feature: number,
    weights: Int32Array,
    start: number,
    end: number,
    parent: Stats,
    toBeat: number,
  ): Best | 'constant' | null {
    const minLeaf = this.params.minSamplesLeaf;
    const t = this.tally(feature, weights, start, end);
    const { binRows, touched, binSum, binWeight } = this;
    let result: Best | 'constant' | null = t <= 1 ? 'constant' : null;
    if (t > 1) {
      const rows = end - start;
      // Minimising squared error = maximising S_L²/W_L + S_R²/W_R over splits.
      let bestScore = Math.max(toBeat, ((parent.sum * parent.sum) / parent.weight) * (1 + 1e-12) + 1e-300);
      let bestBin = -1;
      let sl = 0;
      let wl = 0;
      let nl = 0;
      let bestLeft = { sum: 0, weight: 0 };
      for (let u = 0; u < t - 1; u++) {
        const b = touched[u] ?? 0;
        nl += binRows[b] ?? 0;
        sl += binSum[b] ?? 0;
        wl += binWeight[b] ?? 0;
        if (nl < minLeaf) continue;
        if (rows - nl < minLeaf) break;
        const sr = parent.sum - sl;
        const score = (sl * sl) / wl + (sr * sr) / (parent.weight - wl);
        if (score > bestScore) {
          bestScore = score;
          bestBin = b;
          bestLeft = { sum: sl, weight: wl };
        }
      }
      if (bestBin >= 0) {
        const left = { weight: bestLeft.weight, counts: new Float64Array(1), sum: bestLeft.sum };
        result = { feature, bin: bestBin, score: bestScore, left };
      }
    }
    for (let u = 0; u < t; u++) {
      const b = touched[u] ?? 0;
      binRows[b] = 0;
      binSum[b] = 0;
      binWeight[b] = 0;
    }
    return result;
  }

  /** Stable partition of the node's rows: bin ≤ `bin` first; returns the boundary. */
  private partition(feature: number, bin: number, start: number, end: number): number {
    const { rows: n, bins } = this.data;
    const { order, scratch } = this;
    const column = feature * n;
    let l = start;
    let r = 0;
    for (let q = start; q < end; q++) {
      const i = order[q] ?? 0;
      if ((bins[column + i] ?? 0) <= bin) order[l++] = i;
      else scratch[r++] = i;
    }
    for (let q = 0; q < r; q++) order[l + q] = scratch[q] ?? 0;
    return l;
  }
}

function subtract(parent: Stats, left: Stats): Stats {
  return {
    weight: parent.weight - left.weight,
    counts: parent.counts.map((c, i) => c - (left.counts[i] ?? 0)),
    sum: parent.sum - left.sum,
  };
}
