import { readFileSync } from 'node:fs';
import { expect } from 'vitest';

/** The shape of test/fixtures/drift/scipy.json (written by make_fixtures.py). */
type TestValue = { statistic: number; pvalue: number; df?: number };
type CategoricalExpectations = {
  reference_counts: number[];
  current_counts: number[];
  chisquare: TestValue & { df: number; unseen: number[] };
  contingency: TestValue & { df: number };
  jensenshannon: number;
  z?: TestValue;
};
export type NumericCase = CategoricalExpectations & {
  name: string;
  reference: string;
  current: string;
  bins: number;
  distinct: number;
  ks: TestValue & { method: 'exact' | 'asymp' };
  wasserstein: number;
  reference_std: number;
  wasserstein_norm: number;
  psi: { value: number; cuts: number[]; reference: number[]; current: number[] };
};
export type CategoricalCase = CategoricalExpectations & {
  name: string;
  reference: (string | null)[];
  current: (string | null)[];
  labels: string[];
  psi: number;
};
type Fixtures = {
  versions: { numpy: string; scipy: string };
  constants: { psi_floor: number; unseen_share: number; std_floor: number };
  vectors: Record<string, number[]>;
  numeric: NumericCase[];
  categorical: CategoricalCase[];
  special: Record<string, number[][]>;
};

export const fixtures = JSON.parse(
  readFileSync(new URL('../fixtures/drift/scipy.json', import.meta.url), 'utf8'),
) as Fixtures;

export function vector(name: string): Float64Array {
  const values = fixtures.vectors[name];
  if (!values) throw new Error(`no fixture vector ${name}`);
  return Float64Array.from(values);
}

/** Statistics agree to 1e-6 absolute; p-values to 1e-4. */
export const STATISTIC = 1e-6;
export const P_VALUE = 1e-4;

export function near(
  actual: number | undefined | null,
  expected: number,
  tolerance: number,
  what: string,
): void {
  expect(typeof actual, `${what}: not a number`).toBe('number');
  const diff = Math.abs((actual as number) - expected);
  expect(
    diff <= tolerance,
    `${what}: ${actual} vs SciPy ${expected} (|Δ| = ${diff}, tolerance ${tolerance})`,
  ).toBe(true);
}

/** Close in absolute terms or, for values far from 1, relative ones (special functions). */
export function nearRelative(
  actual: number,
  expected: number,
  absolute: number,
  relative: number,
  what: string,
) {
  const diff = Math.abs(actual - expected);
  const ok = diff <= absolute || diff <= relative * Math.abs(expected);
  expect(ok, `${what}: ${actual} vs SciPy ${expected} (|Δ| = ${diff})`).toBe(true);
}
