import { describe, expect, it } from 'vitest';
import { holdoutSplit, kFold } from '../../src/stages/ml/split.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function countOf(labels: number[], indices: Int32Array, label: number): number {
  let c = 0;
  for (const i of indices) if (labels[i] === label) c++;
  return c;
}

describe('holdout split', () => {
  it('holds out ceil(n · fraction) rows, disjoint from train, covering all rows', () => {
    const { train, test } = holdoutSplit(10, { testFraction: 0.25, seed: 1 });
    expect(test.length).toBe(3);
    expect(train.length).toBe(7);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(range(10));
  });

  it('is reproducible for a seed and different for another', () => {
    const a = holdoutSplit(100, { seed: 1 });
    expect(holdoutSplit(100, { seed: 1 })).toEqual(a);
    expect(holdoutSplit(100, { seed: 2 }).test).not.toEqual(a.test);
  });

  it('keeps class proportions when stratified', () => {
    // 90 of class 0, 10 of class 1; a 20% test part has 18 and 2.
    const labels = range(100).map((i) => (i % 10 === 0 ? 1 : 0));
    for (let seed = 0; seed < 5; seed++) {
      const { train, test } = holdoutSplit(100, { testFraction: 0.2, seed, stratify: labels });
      expect(countOf(labels, test, 1)).toBe(2);
      expect(countOf(labels, test, 0)).toBe(18);
      expect(countOf(labels, train, 1)).toBe(8);
    }
  });

  it('gives rounding remainders to the classes with the largest shares', () => {
    // 5, 3 and 2 rows; test = 5: exact shares 2.5, 1.5, 1 → 2, 1, 1 + one more to class 0 (ties go to the first).
    const labels = [0, 0, 0, 0, 0, 1, 1, 1, 2, 2];
    const { test } = holdoutSplit(10, { testFraction: 0.5, seed: 3, stratify: labels });
    expect([countOf(labels, test, 0), countOf(labels, test, 1), countOf(labels, test, 2)]).toEqual([3, 1, 1]);
  });

  it('rejects fractions that leave a part empty', () => {
    expect(() => holdoutSplit(10, { testFraction: 1 })).toThrow(/between 0 and 1/);
    expect(() => holdoutSplit(1, { testFraction: 0.5 })).toThrow(/non-empty/);
  });
});

describe('k-fold', () => {
  it('partitions the rows into k test folds of near-equal size', () => {
    const folds = kFold(10, 3, { seed: 4 });
    expect(folds.map((f) => f.test.length)).toEqual([4, 3, 3]);
    const all = folds.flatMap((f) => Array.from(f.test)).sort((a, b) => a - b);
    expect(all).toEqual(range(10));
    for (const f of folds) {
      expect(f.train.length + f.test.length).toBe(10);
      expect(Array.from(f.train).some((i) => f.test.includes(i))).toBe(false);
    }
  });

  it('without shuffling, folds are contiguous blocks', () => {
    const folds = kFold(7, 3, { shuffle: false });
    expect(folds.map((f) => Array.from(f.test))).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it('stratified folds get every class in proportion', () => {
    const labels = range(60).map((i) => (i < 40 ? 0 : i < 55 ? 1 : 2));
    const folds = kFold(60, 5, { seed: 2, stratify: labels });
    for (const f of folds) {
      expect(f.test.length).toBe(12);
      expect(countOf(labels, f.test, 0)).toBe(8);
      expect(countOf(labels, f.test, 1)).toBe(3);
      expect(countOf(labels, f.test, 2)).toBe(1);
    }
    expect(kFold(60, 5, { seed: 2, stratify: labels })).toEqual(folds);
  });

  it('rejects k outside 2..n', () => {
    expect(() => kFold(5, 1)).toThrow(/2 ≤ k ≤ 5/);
    expect(() => kFold(5, 6)).toThrow(/2 ≤ k ≤ 5/);
  });
});
