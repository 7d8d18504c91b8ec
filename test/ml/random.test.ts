import { describe, expect, it } from 'vitest';
import { createRng, fromState } from '../../src/stages/ml/random.ts';

describe('random', () => {
  it('matches the xoshiro128** reference stream for state (1, 2, 3, 4)', () => {
    const rng = fromState(1, 2, 3, 4);
    const outputs = Array.from({ length: 6 }, () => rng.uint32());
    expect(outputs).toEqual([11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = Array.from({ length: 5 }, createRng(42).next);
    const b = Array.from({ length: 5 }, createRng(42).next);
    const c = Array.from({ length: 5 }, createRng(43).next);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('draws uniforms in [0, 1) with the right mean and variance', () => {
    const rng = createRng(1);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.next();
      if (!(u >= 0 && u < 1)) outside++;
      sum += u;
      sumSq += u * u;
    }
    expect(outside).toBe(0);
    const mean = sum / n;
    // Mean 1/2, variance 1/12; tolerances are ~5 standard errors.
    expect(mean).toBeCloseTo(0.5, 2);
    expect(sumSq / n - mean * mean).toBeCloseTo(1 / 12, 2);
  });

  it('draws integers uniformly over 0..n-1', () => {
    const rng = createRng(7);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) {
      const k = rng.int(6);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('draws standard normals', () => {
    const rng = createRng(3);
    const n = 100_000;
    let sum = 0;
    let sumSq = 0;
    let within1 = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      sum += z;
      sumSq += z * z;
      if (Math.abs(z) < 1) within1++;
    }
    expect(sum / n).toBeCloseTo(0, 1);
    expect(sumSq / n).toBeCloseTo(1, 1);
    // P(|Z| < 1) = 0.6827
    expect(within1 / n).toBeCloseTo(0.6827, 2);
  });

  it('shuffles into a permutation, reproducibly', () => {
    const p = createRng(5).permutation(100);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(p)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(createRng(5).permutation(100)).toEqual(p);
    const items = ['a', 'b', 'c', 'd'];
    expect(
      createRng(9)
        .shuffle([...items])
        .sort(),
    ).toEqual(items);
  });

  it('forks an independent stream without replaying the parent', () => {
    const parent = createRng(11);
    const child = parent.fork();
    expect(child.next()).not.toBe(parent.next());
  });
});
