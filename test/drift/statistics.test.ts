import { describe, expect, it } from 'vitest';
import { createTable } from '../../src/stages/data/table.ts';
import {
  type ColumnDrift,
  chi2Contingency,
  chiSquareGoF,
  chiSquareSf,
  compareTables,
  countSortedValues,
  countStrings,
  erfc,
  gammaP,
  gammaQ,
  jensenShannon,
  kolmogorovSf,
  ks2samp,
  lnGamma,
  normalSf,
  PSI_FLOOR,
  psi,
  quantileCuts,
  smirnovSf,
  sortedFinite,
  UNSEEN_SHARE,
  WASSERSTEIN_STD_FLOOR,
  wasserstein,
  zTestProportions,
} from '../../src/stages/drift/index.ts';
import { psiFromCounts, sortedBinCounts } from '../../src/stages/drift/psi.ts';
import { RADIX_MIN, radixSortFinite } from '../../src/stages/drift/sample.ts';
import { createRng } from '../../src/stages/ml/random.ts';
import {
  type CategoricalCase,
  fixtures,
  type NumericCase,
  near,
  nearRelative,
  P_VALUE,
  STATISTIC,
  vector,
} from './fixtures.ts';

describe('special functions', () => {
  it('match known values', () => {
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 13);
    expect(lnGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 13);
    expect(lnGamma(1)).toBeCloseTo(0, 14);
    // erfc(1) and the two-sided 5% points of the normal and chi-square(1) distributions.
    expect(erfc(1)).toBeCloseTo(0.15729920705028513, 15);
    expect(erfc(0)).toBe(1);
    expect(erfc(-1)).toBeCloseTo(2 - 0.15729920705028513, 15);
    expect(normalSf(1.959963984540054)).toBeCloseTo(0.025, 15);
    expect(chiSquareSf(3.841458820694124, 1)).toBeCloseTo(0.05, 15);
    // Chi-square with 2 degrees of freedom is exponential: sf(x) = exp(-x/2).
    expect(chiSquareSf(7, 2)).toBeCloseTo(Math.exp(-3.5), 15);
    // Q(1, x) = exp(-x); P + Q = 1.
    expect(gammaQ(1, 3)).toBeCloseTo(Math.exp(-3), 15);
    expect(gammaP(2.5, 4) + gammaQ(2.5, 4)).toBeCloseTo(1, 15);
    // Upper tails keep their relative precision instead of rounding to 1 - 1.
    expect(normalSf(10) / 7.619853024160527e-24).toBeCloseTo(1, 12);
    expect(chiSquareSf(0, 3)).toBe(1);
  });

  it('agree with SciPy: gammaln, gammainc, gammaincc, chi2.sf, erfc, norm.sf', () => {
    const s = fixtures.special;
    for (const [x, v] of s.gammaln ?? [])
      nearRelative(lnGamma(x as number), v as number, 1e-13, 1e-13, `lnGamma(${x})`);
    for (const [a, x, v] of s.gammaincc ?? []) {
      nearRelative(gammaQ(a as number, x as number), v as number, 1e-13, 1e-10, `gammaQ(${a}, ${x})`);
    }
    for (const [a, x, v] of s.gammainc ?? []) {
      nearRelative(gammaP(a as number, x as number), v as number, 1e-13, 1e-10, `gammaP(${a}, ${x})`);
    }
    for (const [x, df, v] of s.chi2_sf ?? []) {
      nearRelative(chiSquareSf(x as number, df as number), v as number, 1e-13, 1e-10, `chi2.sf(${x}, ${df})`);
    }
    for (const [x, v] of s.erfc ?? [])
      nearRelative(erfc(x as number), v as number, 1e-15, 1e-12, `erfc(${x})`);
    for (const [z, v] of s.norm_sf ?? [])
      nearRelative(normalSf(z as number), v as number, 1e-15, 1e-12, `sf(${z})`);
  });

  it('agree with SciPy: kstwo.sf and smirnov in every branch', () => {
    for (const [n, x, v] of fixtures.special.kstwo_sf ?? []) {
      nearRelative(kolmogorovSf(n as number, x as number), v as number, 1e-13, 1e-9, `kstwo.sf(${x}, ${n})`);
    }
    for (const [n, x, v] of fixtures.special.smirnov ?? []) {
      nearRelative(smirnovSf(n as number, x as number), v as number, 1e-9, 1e-7, `smirnov(${n}, ${x})`);
    }
  });

  it('refuse arguments outside their domain', () => {
    expect(() => lnGamma(0)).toThrow(/x > 0/);
    expect(() => gammaQ(-1, 2)).toThrow(/a > 0/);
    expect(() => gammaP(1, -2)).toThrow(/x >= 0/);
    expect(kolmogorovSf(0, 0.1)).toBeNaN();
  });
});

const numericCases = fixtures.numeric.map((c) => [c.name, c] as const);
const categoricalCases = fixtures.categorical.map((c) => [c.name, c] as const);

describe('numeric statistics against SciPy', () => {
  it.each(numericCases)('%s', (_, c: NumericCase) => {
    const ref = vector(c.reference);
    const cur = vector(c.current);
    const ks = ks2samp(ref, cur);
    expect(ks.method, `${c.name}: KS method`).toBe(c.ks.method);
    near(ks.statistic, c.ks.statistic, STATISTIC, `${c.name}: KS D`);
    near(ks.pValue, c.ks.pvalue, P_VALUE, `${c.name}: KS p`);

    const w = wasserstein(ref, cur);
    near(w.distance, c.wasserstein, STATISTIC, `${c.name}: Wasserstein`);
    near(w.referenceStd, c.reference_std, STATISTIC, `${c.name}: reference std`);
    near(w.normed, c.wasserstein_norm, STATISTIC, `${c.name}: Wasserstein normed`);

    const p = psi(ref, cur, { bins: c.bins });
    near(p.value, c.psi.value, STATISTIC, `${c.name}: PSI`);
    expect(p.cuts, `${c.name}: PSI cuts`).toEqual(c.psi.cuts);
    p.reference.forEach((share, i) => {
      near(share, c.psi.reference[i] as number, 1e-12, `${c.name}: ref share ${i}`);
    });
    p.current.forEach((share, i) => {
      near(share, c.psi.current[i] as number, 1e-12, `${c.name}: cur share ${i}`);
    });

    // The categories of a numeric column: its values when there are at most 5, else the PSI bins.
    const a = sortedFinite(ref);
    const b = sortedFinite(cur);
    const cuts = quantileCuts(a, c.bins);
    const categories =
      c.distinct <= 5
        ? countSortedValues(a, b)
        : { reference: sortedBinCounts(a, cuts), current: sortedBinCounts(b, cuts) };
    const keep = [...categories.reference.keys()].filter(
      (i) => (categories.reference[i] as number) + (categories.current[i] as number) > 0,
    );
    const r = Float64Array.from(keep, (i) => categories.reference[i] as number);
    const k = Float64Array.from(keep, (i) => categories.current[i] as number);
    expect([...r], `${c.name}: reference counts`).toEqual(c.reference_counts);
    expect([...k], `${c.name}: current counts`).toEqual(c.current_counts);
    expectCategorical(c.name, r, k, c);
  });
});

describe('categorical statistics against SciPy', () => {
  it.each(categoricalCases)('%s', (_, c: CategoricalCase) => {
    const counts = countStrings(c.reference, c.current);
    expect(counts.labels).toEqual(c.labels);
    expect([...counts.reference]).toEqual(c.reference_counts);
    expect([...counts.current]).toEqual(c.current_counts);
    near(psiFromCounts(counts.reference, counts.current), c.psi, STATISTIC, `${c.name}: PSI`);
    expectCategorical(c.name, counts.reference, counts.current, c);
  });
});

function expectCategorical(name: string, r: Float64Array, k: Float64Array, c: NumericCase | CategoricalCase) {
  const gof = chiSquareGoF(r, k);
  near(
    gof.statistic,
    c.chisquare.statistic,
    STATISTIC * Math.max(1, c.chisquare.statistic * 1e-6),
    `${name}: χ²`,
  );
  near(gof.pValue, c.chisquare.pvalue, P_VALUE, `${name}: χ² p`);
  expect(gof.df, `${name}: χ² df`).toBe(c.chisquare.df);
  expect(gof.unseen, `${name}: unseen categories`).toEqual(c.chisquare.unseen);
  const table = chi2Contingency(r, k);
  near(table.statistic, c.contingency.statistic, STATISTIC, `${name}: contingency χ²`);
  near(table.pValue, c.contingency.pvalue, P_VALUE, `${name}: contingency p`);
  expect(table.df, `${name}: contingency df`).toBe(c.contingency.df);
  near(jensenShannon(r, k), c.jensenshannon, STATISTIC, `${name}: Jensen-Shannon`);
  if (c.z) {
    const z = zTestProportions(
      r.length === 2 ? (r[1] as number) : 0,
      sum(r),
      k.length === 2 ? (k[1] as number) : 0,
      sum(k),
    );
    near(z.statistic, c.z.statistic, STATISTIC, `${name}: z`);
    near(z.pValue, c.z.pvalue, P_VALUE, `${name}: z p`);
  }
}

function sum(values: Float64Array): number {
  return values.reduce((a, b) => a + b, 0);
}

/** The report's statistics for one column pair, through the same path monitoring uses. */
function reportOf(ref: Float64Array, cur: Float64Array, psiBins = 10): ColumnDrift {
  const report = compareTables(
    createTable([{ name: 'x', type: 'numeric', values: ref }]),
    createTable([{ name: 'x', type: 'numeric', values: cur }]),
    { psiBins },
  );
  return report.columns[0] as ColumnDrift;
}

type Tested = { statistic: number; pValue: number; df?: number };

describe('compareTables reports the same numbers', () => {
  it.each(numericCases)('%s', (_, c: NumericCase) => {
    const column = reportOf(vector(c.reference), vector(c.current), c.bins);
    const s = column.statistics;
    near((s.ks as Tested).statistic, c.ks.statistic, STATISTIC, 'KS D');
    near((s.ks as Tested).pValue, c.ks.pvalue, P_VALUE, 'KS p');
    near(s.psi as number, c.psi.value, STATISTIC, 'PSI');
    near(s.wasserstein as number, c.wasserstein, STATISTIC, 'Wasserstein');
    near(s.wassersteinNorm as number, c.wasserstein_norm, STATISTIC, 'Wasserstein normed');
    near((s.chiSquare as Tested).pValue, c.chisquare.pvalue, P_VALUE, 'χ² p');
    near((s.contingency as Tested).pValue, c.contingency.pvalue, P_VALUE, 'contingency p');
    near(s.jensenShannon as number, c.jensenshannon, STATISTIC, 'Jensen-Shannon');
    if (c.z) near((s.z as Tested).pValue, c.z.pvalue, P_VALUE, 'z p');
    else expect(s.z).toBeUndefined();
    expect(JSON.parse(JSON.stringify(column))).toEqual(column);
  });

  it.each(categoricalCases)('%s', (_, c: CategoricalCase) => {
    const report = compareTables(
      createTable([{ name: 'plan', type: 'categorical', values: c.reference }]),
      createTable([{ name: 'plan', type: 'categorical', values: c.current }]),
    );
    const column = report.columns[0] as ColumnDrift;
    const s = column.statistics;
    near(s.psi as number, c.psi, STATISTIC, 'PSI');
    near((s.chiSquare as Tested).pValue, c.chisquare.pvalue, P_VALUE, 'χ² p');
    near((s.contingency as Tested).pValue, c.contingency.pvalue, P_VALUE, 'contingency p');
    near(s.jensenShannon as number, c.jensenshannon, STATISTIC, 'Jensen-Shannon');
    if (c.z) near((s.z as Tested).pValue, c.z.pvalue, P_VALUE, 'z p');
    expect(JSON.parse(JSON.stringify(column))).toEqual(column);
  });
});

describe('sorting', () => {
  const rng = createRng(3);
  const specials = [0, -0, 5e-324, -5e-324, 1e-310, -1e-310, 1e300, -1e300, 1, -1];
  const samples: Record<string, () => number> = {
    'spread doubles': () => (rng.next() - 0.5) * 10 ** rng.int(30),
    integers: () => rng.int(10),
    'negative integers': () => -rng.int(4),
    'special values, NaN and infinities': () =>
      rng.next() < 0.1
        ? ([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][rng.int(3)] as number)
        : (specials[rng.int(specials.length)] as number),
    constant: () => 2.5,
  };

  it.each(Object.entries(samples))('the radix sort orders %s as the built-in sort', (_, draw) => {
    const values = Float64Array.from({ length: RADIX_MIN + 1000 }, draw);
    const before = values.slice();
    const expected = values.filter((v) => Number.isFinite(v)).sort();
    const sorted = sortedFinite(values);
    expect(sorted.length).toBe(expected.length);
    // Object.is tells -0 from 0: the order must match bit for bit.
    expect(sorted.every((v, i) => Object.is(v, expected[i]))).toBe(true);
    expect(radixSortFinite(values)).toEqual(sorted);
    expect(values).toEqual(before);
  });

  it('sorts a subarray view without reading outside it', () => {
    const values = Float64Array.from({ length: 3 * RADIX_MIN }, (_, i) => (i % 7) - i / 1000);
    const view = values.subarray(RADIX_MIN, 2 * RADIX_MIN);
    expect(radixSortFinite(view)).toEqual(view.slice().sort());
  });
});

describe('ties, constant columns and small samples', () => {
  it('counts ties on both sides at once, as searchsorted on the concatenated data does', () => {
    // F_ref(1) = 3/4 and F_cur(1) = 1/4 at the tied value 1; counting one side's ties first
    // would see differences up to 1 at 1 instead.
    const ks = ks2samp(Float64Array.from([0, 1, 1, 2]), Float64Array.from([1, 2, 2, 2]));
    expect(ks.statistic).toBe(0.5);
  });

  it('gives finite numbers for constant columns, the normed Wasserstein divided by the 0.001 floor', () => {
    const same = reportOf(new Float64Array(50).fill(5), new Float64Array(40).fill(5));
    expect(same.statistics.wasserstein).toBe(0);
    expect(same.statistics.wassersteinNorm).toBe(0);
    expect((same.statistics.ks as Tested).pValue).toBe(1);
    expect(same.drifted).toBe(false);
    const moved = reportOf(new Float64Array(1500).fill(1), new Float64Array(25).fill(2));
    expect(moved.statistics.wasserstein).toBe(1);
    expect(moved.statistics.wassersteinNorm).toBeCloseTo(1 / WASSERSTEIN_STD_FLOOR, 9);
    expect(moved.test).toBe('jensenshannon');
    expect(moved.drifted).toBe(true);
    expect(JSON.stringify(moved)).not.toMatch(/null|NaN|Infinity/);
  });

  it('floors empty PSI bins at 1e-4 without renormalising', () => {
    // Reference all below 1, current all above: the two bins hold 100% and 0% on either side.
    const p = psi(Float64Array.from([0, 0, 0, 0]), Float64Array.from([2, 2]), { bins: 2 });
    expect(p.cuts).toEqual([0]);
    expect(p.reference).toEqual([0, 1]);
    expect(p.value).toBe(0);
    const q = psi(Float64Array.from([0, 0, 1, 1]), Float64Array.from([-1, -1]), { bins: 2 });
    // Cut 0.5: reference shares (0.5, 0.5) against current (1, 0 → floor); the bin below 0.5
    // adds (1 - 0.5) ln 2, the one above (1e-4 - 0.5) ln(1e-4 / 0.5).
    expect(q.value).toBeCloseTo(0.5 * Math.log(2) + (PSI_FLOOR - 0.5) * Math.log(PSI_FLOOR / 0.5), 12);
  });

  it('pools categories the reference never had and floors their expected share', () => {
    const gof = chiSquareGoF([60, 40, 0, 0], [50, 40, 9, 1]);
    expect(gof.unseen).toEqual([2, 3]);
    expect(gof.df).toBe(2);
    const scale = 1 + UNSEEN_SHARE;
    const expected = [0.6 / scale, 0.4 / scale, UNSEEN_SHARE / scale].map((share) => share * 100);
    const observed = [50, 40, 10];
    const statistic = observed.reduce(
      (s, o, i) => s + (o - (expected[i] as number)) ** 2 / (expected[i] as number),
      0,
    );
    expect(gof.statistic).toBeCloseTo(statistic, 9);
    expect(Number.isFinite(gof.statistic)).toBe(true);
    expect(gof.pValue).toBeLessThan(1e-6);
  });

  it('refuses empty samples with a message that says which side is empty', () => {
    expect(() => ks2samp(Float64Array.from([1, 2]), new Float64Array(0))).toThrow(/current has 0/);
    expect(() => wasserstein(Float64Array.from([Number.NaN]), Float64Array.from([1]))).toThrow(
      /reference has 0/,
    );
    expect(() => chiSquareGoF([1, 2], [0, 0])).toThrow(/at least one value on each side/);
    expect(() => jensenShannon([1, 2], [1])).toThrow(/one count per category/);
    expect(() => zTestProportions(3, 2, 1, 4)).toThrow(/0 <= count <= total/);
    expect(() => psi(Float64Array.from([1]), Float64Array.from([1]), { bins: 1 })).toThrow(/at least 2/);
  });

  it('reports an empty current window as not enough data, never NaN', () => {
    const column = reportOf(vector('n800'), new Float64Array(0));
    expect(column).toMatchObject({
      status: 'not_enough_data',
      drifted: false,
      score: null,
      pValue: null,
      currentCount: 0,
      referenceCount: 800,
      message: 'not enough data: 0 current values (at least 1 needed)',
      statistics: {},
    });
    expect(column.histogram.labels).toHaveLength(10);
    expect(column.histogram.current.every((share) => share === 0)).toBe(true);
    expect(JSON.parse(JSON.stringify(column))).toEqual(column);
  });

  it('drops missing and infinite values before every statistic', () => {
    const ref = vector('n800');
    const cur = vector('n600_shift');
    const withGaps = Float64Array.from([
      ...cur,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    expect(ks2samp(ref, withGaps)).toEqual(ks2samp(ref, cur));
    expect(wasserstein(ref, withGaps)).toEqual(wasserstein(ref, cur));
    expect(psi(ref, withGaps)).toEqual(psi(ref, cur));
  });
});
