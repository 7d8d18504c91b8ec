/**
 * The gradient-boosting histogram kernel: for the rows `order[start, end)` of a node, adds
 * each row's gradient, hessian and a count of 1 to its bin of every feature, into
 * `hist` laid out as [Σg, Σh, rows] per bin, feature after feature (see `BinnedData`).
 *
 * Boosting spends most of its time here, so the loop is unrolled over features: eight
 * (then four, then one) feature columns per pass over the rows. The updates of one pass
 * are independent, so the CPU overlaps their memory latency; eight at a time runs about
 * three times faster in V8 than one feature at a time. `og`/`oh` hold the node's
 * gradients and hessians already gathered into row order (`og[k]` is row `order[k]`).
 */
export function addToHistogram(
  hist: Float64Array,
  bins: Uint8Array,
  n: number,
  offsets: Int32Array,
  order: Int32Array,
  start: number,
  end: number,
  og: Float64Array,
  oh: Float64Array,
): void {
  const d = offsets.length - 1;
  let f = 0;
  for (; f + 8 <= d; f += 8) {
    const c0 = f * n;
    const b0 = (offsets[f] ?? 0) * 3;
    const c1 = (f + 1) * n;
    const b1 = (offsets[f + 1] ?? 0) * 3;
    const c2 = (f + 2) * n;
    const b2 = (offsets[f + 2] ?? 0) * 3;
    const c3 = (f + 3) * n;
    const b3 = (offsets[f + 3] ?? 0) * 3;
    const c4 = (f + 4) * n;
    const b4 = (offsets[f + 4] ?? 0) * 3;
    const c5 = (f + 5) * n;
    const b5 = (offsets[f + 5] ?? 0) * 3;
    const c6 = (f + 6) * n;
    const b6 = (offsets[f + 6] ?? 0) * 3;
    const c7 = (f + 7) * n;
    const b7 = (offsets[f + 7] ?? 0) * 3;
    for (let k = start; k < end; k++) {
      const i = order[k] ?? 0;
      const g = og[k] ?? 0;
      const h = oh[k] ?? 0;
      const q0 = b0 + 3 * (bins[c0 + i] ?? 0);
      const q1 = b1 + 3 * (bins[c1 + i] ?? 0);
      const q2 = b2 + 3 * (bins[c2 + i] ?? 0);
      const q3 = b3 + 3 * (bins[c3 + i] ?? 0);
      const q4 = b4 + 3 * (bins[c4 + i] ?? 0);
      const q5 = b5 + 3 * (bins[c5 + i] ?? 0);
      const q6 = b6 + 3 * (bins[c6 + i] ?? 0);
      const q7 = b7 + 3 * (bins[c7 + i] ?? 0);
      hist[q0] = (hist[q0] ?? 0) + g;
      hist[q0 + 1] = (hist[q0 + 1] ?? 0) + h;
      hist[q0 + 2] = (hist[q0 + 2] ?? 0) + 1;
      hist[q1] = (hist[q1] ?? 0) + g;
      hist[q1 + 1] = (hist[q1 + 1] ?? 0) + h;
      hist[q1 + 2] = (hist[q1 + 2] ?? 0) + 1;
      hist[q2] = (hist[q2] ?? 0) + g;
      hist[q2 + 1] = (hist[q2 + 1] ?? 0) + h;
      hist[q2 + 2] = (hist[q2 + 2] ?? 0) + 1;
      hist[q3] = (hist[q3] ?? 0) + g;
      hist[q3 + 1] = (hist[q3 + 1] ?? 0) + h;
      hist[q3 + 2] = (hist[q3 + 2] ?? 0) + 1;
      hist[q4] = (hist[q4] ?? 0) + g;
      hist[q4 + 1] = (hist[q4 + 1] ?? 0) + h;
      hist[q4 + 2] = (hist[q4 + 2] ?? 0) + 1;
      hist[q5] = (hist[q5] ?? 0) + g;
      hist[q5 + 1] = (hist[q5 + 1] ?? 0) + h;
      hist[q5 + 2] = (hist[q5 + 2] ?? 0) + 1;
      hist[q6] = (hist[q6] ?? 0) + g;
      hist[q6 + 1] = (hist[q6 + 1] ?? 0) + h;
      hist[q6 + 2] = (hist[q6 + 2] ?? 0) + 1;
      hist[q7] = (hist[q7] ?? 0) + g;
      hist[q7 + 1] = (hist[q7 + 1] ?? 0) + h;
      hist[q7 + 2] = (hist[q7 + 2] ?? 0) + 1;
    }
  }
  for (; f + 4 <= d; f += 4) {
    const c0 = f * n;
    const b0 = (offsets[f] ?? 0) * 3;
    const c1 = (f + 1) * n;
    const b1 = (offsets[f + 1] ?? 0) * 3;
    const c2 = (f + 2) * n;
    const b2 = (offsets[f + 2] ?? 0) * 3;
    const c3 = (f + 3) * n;
    const b3 = (offsets[f + 3] ?? 0) * 3;
    for (let k = start; k < end; k++) {
      const i = order[k] ?? 0;
      const g = og[k] ?? 0;
      const h = oh[k] ?? 0;
      const q0 = b0 + 3 * (bins[c0 + i] ?? 0);
      const q1 = b1 + 3 * (bins[c1 + i] ?? 0);
      const q2 = b2 + 3 * (bins[c2 + i] ?? 0);
      const q3 = b3 + 3 * (bins[c3 + i] ?? 0);
      hist[q0] = (hist[q0] ?? 0) + g;
      hist[q0 + 1] = (hist[q0 + 1] ?? 0) + h;
      hist[q0 + 2] = (hist[q0 + 2] ?? 0) + 1;
      hist[q1] = (hist[q1] ?? 0) + g;
      hist[q1 + 1] = (hist[q1 + 1] ?? 0) + h;
      hist[q1 + 2] = (hist[q1 + 2] ?? 0) + 1;
      hist[q2] = (hist[q2] ?? 0) + g;
      hist[q2 + 1] = (hist[q2 + 1] ?? 0) + h;
      hist[q2 + 2] = (hist[q2 + 2] ?? 0) + 1;
      hist[q3] = (hist[q3] ?? 0) + g;
      hist[q3 + 1] = (hist[q3 + 1] ?? 0) + h;
      hist[q3 + 2] = (hist[q3 + 2] ?? 0) + 1;
    }
  }
  for (; f < d; f++) {
    const c0 = f * n;
    const b0 = (offsets[f] ?? 0) * 3;
    for (let k = start; k < end; k++) {
      const i = order[k] ?? 0;
      const g = og[k] ?? 0;
      const h = oh[k] ?? 0;
      const q0 = b0 + 3 * (bins[c0 + i] ?? 0);
      hist[q0] = (hist[q0] ?? 0) + g;
      hist[q0 + 1] = (hist[q0 + 1] ?? 0) + h;
      hist[q0 + 2] = (hist[q0 + 2] ?? 0) + 1;
    }
  }
}
