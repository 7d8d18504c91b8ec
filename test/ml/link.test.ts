import { describe, expect, it } from 'vitest';
import { encodeLabels, labelsFromProba } from '../../src/stages/ml/labels.ts';
import { logit, sigmoid, softmaxInPlace, softplus } from '../../src/stages/ml/link.ts';
import { fromRows } from '../../src/stages/ml/matrix.ts';

describe('link functions', () => {
  it('sigmoid and softplus stay finite for huge scores', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(1000)).toBe(1);
    expect(sigmoid(-1000)).toBe(0);
    expect(sigmoid(2)).toBeCloseTo(1 / (1 + Math.exp(-2)), 15);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-1000)).toBe(0);
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
  });

  it('logit inverts the sigmoid and clips pure classes', () => {
    expect(sigmoid(logit(0.3))).toBeCloseTo(0.3, 14);
    expect(Number.isFinite(logit(1))).toBe(true);
    expect(Number.isFinite(logit(0))).toBe(true);
  });

  it('softmax in place returns the log-sum-exp, even for huge scores', () => {
    const v = Float64Array.of(9, 1000, 1000);
    expect(softmaxInPlace(v, 1, 2)).toBeCloseTo(1000 + Math.LN2, 12);
    expect(Array.from(v)).toEqual([9, 0.5, 0.5]);
  });
});

describe('labels', () => {
  it('codes labels by their rank among the distinct values', () => {
    const { classes, codes } = encodeLabels([5, -1, 5, 2]);
    expect(Array.from(classes)).toEqual([-1, 2, 5]);
    expect(Array.from(codes)).toEqual([2, 0, 2, 1]);
  });

  it('picks the most probable label, the lower one on ties', () => {
    const proba = fromRows([
      [0.2, 0.8],
      [0.5, 0.5],
    ]);
    expect(Array.from(labelsFromProba(proba, Float64Array.of(3, 7)))).toEqual([7, 3]);
  });
});
