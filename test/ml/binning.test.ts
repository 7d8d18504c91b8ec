import { describe, expect, it } from 'vitest';
import { binMatrix, binOf, fitBins } from '../../src/stages/ml/binning.ts';
import { fromRows, matrix } from '../../src/stages/ml/matrix.ts';
import { createRng } from '../../src/stages/ml/random.ts';

describe('binning', () => {
  it('cuts a feature with few values midway between them', () => {
    const X = fromRows([[1], [1], [2], [3], [3], [3]]);
    const bins = fitBins(X, 255, createRng(0));
    expect(Array.from(bins.thresholds[0] ?? [])).toEqual([1.5, 2.5]);
    expect(Array.from(bins.counts)).toEqual([3]);
    expect(Array.from(binMatrix(X, bins))).toEqual([0, 0, 1, 2, 2, 2]);
  });

  it('cuts a feature with many values at quantiles into equal-sized bins', () => {
    const X = matrix(
      100,
      1,
      Float64Array.from({ length: 100 }, (_, i) => 99 - i),
    );
    const bins = fitBins(X, 4, createRng(0));
    // Positions 24.75, 49.5 and 74.25 of the sorted values 0..99, cut midway.
    expect(Array.from(bins.thresholds[0] ?? [])).toEqual([24.5, 49.5, 74.5]);
    const counts = [0, 0, 0, 0];
    for (const b of binMatrix(X, bins)) counts[b] = (counts[b] ?? 0) + 1;
    expect(counts).toEqual([25, 25, 25, 25]);
  });

  it('gives a constant feature a single bin', () => {
    const bins = fitBins(fromRows([[4], [4], [4]]), 255, createRng(0));
    expect(bins.thresholds[0]?.length).toBe(0);
    expect(bins.counts[0]).toBe(1);
  });

  it('agrees with raw-value thresholds: bin(x) ≤ b exactly when x ≤ cut[b]', () => {
    const rng = createRng(1);
    const X = matrix(
      5000,
      1,
      Float64Array.from({ length: 5000 }, () => Math.round(rng.normal() * 1000) / 100),
    );
    const bins = fitBins(X, 32, rng);
    const cuts = bins.thresholds[0] ?? new Float64Array(0);
    const binned = binMatrix(X, bins);
    for (let i = 0; i < X.rows; i++) {
      const x = X.data[i] ?? 0;
      for (let b = 0; b < cuts.length; b++) expect((binned[i] ?? 0) <= b).toBe(x <= (cuts[b] ?? 0));
    }
    expect(binOf(cuts, cuts[3] ?? 0)).toBe(3);
  });

  it('keeps at most maxBins bins', () => {
    const rng = createRng(2);
    const X = matrix(
      10_000,
      2,
      Float64Array.from({ length: 20_000 }, () => rng.normal()),
    );
    const bins = fitBins(X, 255, rng);
    expect(Array.from(bins.counts)).toEqual([255, 255]);
    expect(() => fitBins(X, 300, rng)).toThrow(/maxBins/);
  });
});
