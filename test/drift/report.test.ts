import { describe, expect, it } from 'vitest';
import { type Column, createTable, type Table } from '../../src/stages/data/table.ts';
import {
  type ColumnDrift,
  compareTables,
  type DriftReport,
  formatDriftReport,
  ks2samp,
  wasserstein,
} from '../../src/stages/drift/index.ts';
import { createRng } from '../../src/stages/ml/random.ts';

const rng = createRng(7);
const normal = (n: number, mean = 0, sd = 1) =>
  Float64Array.from({ length: n }, () => mean + sd * rng.normal());
const integers = (n: number, k: number) => Float64Array.from({ length: n }, () => rng.int(k));
const pick = (n: number, labels: string[]) =>
  Array.from({ length: n }, () => labels[rng.int(labels.length)] ?? null);

const num = (name: string, values: Float64Array): Column => ({ name, type: 'numeric', values });
const cat = (name: string, values: (string | null)[]): Column => ({ name, type: 'categorical', values });
const bool = (name: string, values: Float64Array): Column => ({ name, type: 'boolean', values });
const table = (...columns: Column[]) => createTable(columns);

function column(report: DriftReport, name: string): ColumnDrift {
  const found = report.columns.find((c) => c.column === name);
  if (!found) throw new Error(`no column ${name} in the report`);
  return found;
}

/** A reference and a current table of `n` rows each with the same kinds of columns. */
function pair(n: number, m = n): [Table, Table] {
  const make = (rows: number) =>
    table(
      num('income', normal(rows, 50, 10)),
      num('children', integers(rows, 3)),
      num('flag', integers(rows, 2)),
      cat('plan', pick(rows, ['basic', 'plus', 'pro', 'team'])),
      cat('channel', pick(rows, ['web', 'shop'])),
      bool('active', integers(rows, 2)),
    );
  return [make(n), make(m)];
}

describe('test choice (Evidently rules)', () => {
  it('with at most 1000 reference values: KS, chi-square, z', () => {
    const [ref, cur] = pair(1000, 300);
    const report = compareTables(ref, cur);
    expect(report.columns.map((c) => [c.column, c.kind, c.test])).toEqual([
      ['income', 'numeric', 'ks'],
      ['children', 'numeric', 'chisquare'],
      ['flag', 'numeric', 'z'],
      ['plan', 'categorical', 'chisquare'],
      ['channel', 'categorical', 'z'],
      ['active', 'categorical', 'z'],
    ]);
    expect(column(report, 'income').reason).toBe(
      'reference ≤ 1000 values (1000), numeric with 1300 distinct values',
    );
    expect(column(report, 'children').reason).toBe(
      'reference ≤ 1000 values (1000), numeric with only 3 distinct values (≤ 5), treated as categorical',
    );
    for (const c of report.columns) {
      expect(c.threshold).toBe(0.05);
      expect(c.pValue).toBeTypeOf('number');
    }
    // The deciding numbers are the test statistics, and the p-values decide.
    const income = column(report, 'income');
    expect(income.score).toBe((income.statistics.ks as { statistic: number }).statistic);
    expect(income.pValue).toBe((income.statistics.ks as { pValue: number }).pValue);
  });

  it('above 1000 reference values: normed Wasserstein and Jensen-Shannon', () => {
    const [ref, cur] = pair(1001, 300);
    const report = compareTables(ref, cur);
    expect(report.columns.map((c) => c.test)).toEqual([
      'wasserstein',
      'jensenshannon',
      'jensenshannon',
      'jensenshannon',
      'jensenshannon',
      'jensenshannon',
    ]);
    const income = column(report, 'income');
    expect(income.reason).toMatch(/^reference > 1000 values \(1001\), numeric/);
    expect(income.score).toBe(income.statistics.wassersteinNorm);
    expect(income.threshold).toBe(0.1);
    expect(income).not.toHaveProperty('pValue');
    expect(column(report, 'plan').score).toBe(column(report, 'plan').statistics.jensenShannon);
  });

  it('counts distinct values over both sides and reference values without the missing ones', () => {
    // Reference 0/1 only, current brings a third value: no longer binary, so chi-square.
    const ref = table(num('x', Float64Array.from([...integers(500, 2), Number.NaN, Number.NaN])));
    const cur = table(num('x', Float64Array.from([0, 1, 2, 1, 0])));
    const x = compareTables(ref, cur).columns[0] as ColumnDrift;
    expect(x.test).toBe('chisquare');
    expect(x.referenceCount).toBe(500);
    expect(x.reason).toBe(
      'reference ≤ 1000 values (500), numeric with only 3 distinct values (≤ 5), treated as categorical',
    );
    // 1001 rows of which 2 are missing: 999 values, still the small-reference rules.
    const big = table(num('x', Float64Array.from([...normal(999), Number.NaN, Number.NaN])));
    expect(compareTables(big, table(num('x', normal(50)))).columns[0]?.test).toBe('ks');
  });

  it('takes per-column overrides, and explains them', () => {
    const [ref, cur] = pair(400, 300);
    const report = compareTables(ref, cur, {
      tests: { income: 'psi', plan: 'jensenshannon', children: 'z' },
    });
    const income = column(report, 'income');
    expect(income.test).toBe('psi');
    expect(income.score).toBe(income.statistics.psi);
    expect(income.threshold).toBe(0.1);
    expect(income.reason).toMatch(/^set in options.tests \(the default would be ks: reference ≤ 1000/);
    expect(column(report, 'plan').test).toBe('jensenshannon');
    // The z-test needs two values; with three it falls back to chi-square and says so.
    const children = column(report, 'children');
    expect(children.test).toBe('chisquare');
    expect(children.reason).toMatch(/needs at most 2 distinct values but there are 3: chi-square instead/);
  });

  it('refuses tests that cannot apply and names that do not exist', () => {
    const [ref, cur] = pair(100);
    expect(() => compareTables(ref, cur, { tests: { plan: 'ks' } })).toThrow(
      /tests.plan: ks needs a numeric column, and "plan" is categorical/,
    );
    expect(() => compareTables(ref, cur, { tests: { active: 'wasserstein' } })).toThrow(
      /"active" is boolean/,
    );
    expect(() => compareTables(ref, cur, { tests: { incme: 'ks' } })).toThrow(
      /tests names "incme", which is not one/,
    );
    expect(() => compareTables(ref, cur, { tests: { income: 'anderson' as 'ks' } })).toThrow(
      /unknown test "anderson"/,
    );
    expect(() => compareTables(ref, cur, { columns: ['income', 'age'] })).toThrow(
      /"age", which is not in either/,
    );
    expect(() => compareTables(ref, cur, { threshold: 0 })).toThrow(/threshold must be a positive number/);
    expect(() => compareTables(ref, cur, { pValue: 1 })).toThrow(/pValue must be between 0 and 1/);
    expect(() => compareTables(ref, cur, { share: 0 })).toThrow(/share must be more than 0/);
    expect(() => compareTables(ref, cur, { psiBins: 1 })).toThrow(
      /psiBins must be a whole number of at least 2/,
    );
    expect(() => compareTables(ref, cur, { minRows: 0 })).toThrow(/minRows must be a whole number/);
  });
});

describe('thresholds and drift decisions', () => {
  const ref = table(num('x', normal(800)));
  const cur = table(num('x', normal(600, 0.12)));
  const ks = ks2samp(
    (ref.columns[0] as { values: Float64Array }).values,
    (cur.columns[0] as { values: Float64Array }).values,
  );

  it('drifts when the p-value is below pValue, not at it', () => {
    expect(compareTables(ref, cur, { pValue: ks.pValue }).columns[0]?.drifted).toBe(false);
    expect(compareTables(ref, cur, { pValue: ks.pValue * 1.0001 }).columns[0]).toMatchObject({
      drifted: true,
      status: 'drifted',
      threshold: ks.pValue * 1.0001,
    });
  });

  it('drifts when a distance reaches the threshold', () => {
    const score = compareTables(ref, cur, { tests: { x: 'wasserstein' } }).columns[0]?.score as number;
    expect(score).toBe(
      wasserstein(
        (ref.columns[0] as { values: Float64Array }).values,
        (cur.columns[0] as { values: Float64Array }).values,
      ).normed,
    );
    expect(
      compareTables(ref, cur, { tests: { x: 'wasserstein' }, threshold: score }).columns[0]?.drifted,
    ).toBe(true);
    expect(
      compareTables(ref, cur, { tests: { x: 'wasserstein' }, threshold: score * 1.0001 }).columns[0]?.drifted,
    ).toBe(false);
  });

  it('decides dataset drift from the share of drifted monitored columns', () => {
    const base = [0, 1, 2, 3].map(() => normal(500));
    const reference = createTable(base.map((values, i) => num(`f${i}`, values)));
    // Two columns far off, two a sample of the reference itself: half drifted.
    const current = createTable(
      base.map((values, i) => num(`f${i}`, (i < 2 ? values.map((v) => v + 3) : values).slice(0, 300))),
    );
    const report = compareTables(reference, current);
    expect(report).toMatchObject({
      monitored: 4,
      drifted: 2,
      share: 0.5,
      shareThreshold: 0.5,
      datasetDrift: true,
    });
    expect(compareTables(reference, current, { share: 0.6 }).datasetDrift).toBe(false);
    expect(formatDriftReport(report).split('\n').at(-1)).toBe(
      '2 of 4 columns drifted (50%) ≥ 50%: dataset drift',
    );
  });

  it('does not count columns without enough data as monitored', () => {
    const b = normal(200);
    const reference = table(num('a', normal(200)), num('b', b), num('c', normal(200)));
    const current = table(
      num('a', normal(40, 3)),
      num('b', b.slice(0, 40)),
      num(
        'c',
        Float64Array.from({ length: 40 }, (_, i) => (i < 10 ? i : Number.NaN)),
      ),
    );
    const report = compareTables(reference, current, { minRows: 30 });
    expect(column(report, 'c')).toMatchObject({
      status: 'not_enough_data',
      currentCount: 10,
      message: 'not enough data: 10 current values (at least 30 needed)',
    });
    expect(report).toMatchObject({ monitored: 2, drifted: 1, share: 0.5, datasetDrift: true });
    expect(formatDriftReport(report).split('\n').at(-1)).toBe(
      '1 of 2 monitored columns drifted (50%) ≥ 50%: dataset drift (1 column without enough data)',
    );
    const nothing = compareTables(reference, table(num('a', new Float64Array(0))), { minRows: 30 });
    expect(nothing).toMatchObject({ monitored: 0, drifted: 0, share: 0, datasetDrift: false });
  });
});

describe('reports are plain JSON', () => {
  it('has no NaN or Infinity anywhere, whatever the columns hold', () => {
    const n = 60;
    const reference = table(
      num('normal', normal(n)),
      num('constant', new Float64Array(n).fill(3)),
      num(
        'with_gaps',
        Float64Array.from(normal(n), (v, i) => (i % 3 ? v : Number.NaN)),
      ),
      num('empty_now', normal(n)),
      num('all_missing', new Float64Array(n).fill(Number.NaN)),
      num('constant_ref', new Float64Array(n).fill(3)),
      cat('plan', pick(n, ['basic', 'plus'])),
      cat('new_categories', pick(n, ['a', 'b'])),
      bool('active', integers(n, 2)),
      { name: 'notes', type: 'text', values: pick(n, ['x', 'y']) },
    );
    const current = table(
      num('normal', normal(40, 5)),
      num('constant', new Float64Array(40).fill(4)),
      num(
        'with_gaps',
        Float64Array.from(normal(40), (v, i) => (i % 2 ? v : Number.NaN)),
      ),
      num('empty_now', new Float64Array(40).fill(Number.NaN)),
      num('all_missing', new Float64Array(40).fill(Number.NaN)),
      num('constant_ref', normal(40, 3)),
      cat('plan', new Array(40).fill('basic')),
      cat('new_categories', pick(40, ['a', 'c', 'd'])),
      bool('active', new Float64Array(40).fill(1)),
      { name: 'notes', type: 'text', values: pick(40, ['x']) },
    );
    const report = compareTables(reference, current);
    expect(report.columns.map((c) => c.column)).not.toContain('notes');
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    expect(JSON.stringify(report)).not.toMatch(/NaN|Infinity/);
    expect(column(report, 'empty_now').status).toBe('not_enough_data');
    expect(column(report, 'all_missing').message).toBe(
      'not enough data: 0 reference values and 0 current values (at least 1 needed)',
    );
    expect(column(report, 'new_categories').message).toMatch(
      /^categories the reference never had: c, d \(\d+ current values; chi-square pools them into one "unseen" category/,
    );
    // Two distinct values in all: compared as the categories 3 and 4.
    expect(column(report, 'constant').message).toMatch(
      /^values the reference never had: 4 \(40 current values;/,
    );
    expect(column(report, 'with_gaps').currentCount).toBe(20);
    // Many values: the PSI bins are the categories, and the one below the constant is new.
    expect(column(report, 'constant_ref').message).toMatch(
      /^value ranges the reference never had: \(-∞, 3\) \(\d+ current/,
    );
  });

  it('compares a column with missing values on its present values', () => {
    const values = normal(300);
    const gappy = Float64Array.from(values, (v, i) => (i % 4 === 0 ? Number.NaN : v));
    const present = gappy.filter((v) => !Number.isNaN(v));
    const cur = normal(200, 0.3);
    const withGaps = compareTables(table(num('x', gappy)), table(num('x', cur))).columns[0] as ColumnDrift;
    const without = compareTables(table(num('x', present)), table(num('x', cur))).columns[0] as ColumnDrift;
    expect(withGaps.referenceCount).toBe(225);
    expect(withGaps).toEqual(without);
  });

  it('treats an all-missing column as empty whatever type the CSV gave it', () => {
    const ref = table(cat('plan', pick(100, ['a', 'b', 'c'])));
    const cur = table(num('plan', new Float64Array(20).fill(Number.NaN)));
    expect(compareTables(ref, cur).columns[0]).toMatchObject({
      status: 'not_enough_data',
      kind: 'categorical',
    });
    const mismatch = table(num('plan', normal(20)));
    expect(() => compareTables(ref, mismatch)).toThrow(
      /column "plan" is categorical in the reference but numeric in the current data/,
    );
  });

  it('lists only the columns asked for, and refuses text', () => {
    const [ref, cur] = pair(100);
    expect(compareTables(ref, cur, { columns: ['plan', 'income'] }).columns.map((c) => c.column)).toEqual([
      'plan',
      'income',
    ]);
    const withText = table({ name: 'email', type: 'text', values: pick(10, ['a@x', 'b@x']) });
    expect(() => compareTables(withText, withText, { columns: ['email'] })).toThrow(/"email" is text/);
  });
});

describe('histograms', () => {
  it('numeric: the PSI bins, labelled by their edges', () => {
    const ref = Float64Array.from({ length: 100 }, (_, i) => i);
    const x = compareTables(table(num('x', ref)), table(num('x', Float64Array.from([-5, 50, 200]))), {
      psiBins: 4,
    }).columns[0] as ColumnDrift;
    expect(x.histogram).toEqual({
      labels: ['(-∞, 24.8)', '[24.8, 49.5)', '[49.5, 74.3)', '[74.3, ∞)'],
      reference: [0.25, 0.25, 0.25, 0.25],
      current: [1 / 3, 0, 1 / 3, 1 / 3],
    });
  });

  it('categorical: top 20 by reference share, the rest as "other"', () => {
    const labels = Array.from({ length: 25 }, (_, i) => `c${i}`);
    const ref = labels.flatMap((label, i) => new Array(25 - i).fill(label));
    const x = compareTables(table(cat('x', ref)), table(cat('x', ['c0', 'c24', 'new'])))
      .columns[0] as ColumnDrift;
    expect(x.histogram.labels).toHaveLength(21);
    expect(x.histogram.labels.slice(0, 3)).toEqual(['c0', 'c1', 'c2']);
    expect(x.histogram.labels.at(-1)).toBe('other');
    const total = ref.length;
    // c20..c24 have 5..1 values, plus the unseen "new" (reference share 0).
    expect(x.histogram.reference.at(-1)).toBeCloseTo(15 / total, 12);
    expect(x.histogram.current.at(-1)).toBeCloseTo(2 / 3, 12);
    expect(x.histogram.reference.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });
});

describe('formatDriftReport', () => {
  it('prints every statistic, marks the deciding one and gives the verdicts', () => {
    const tenure = normal(500, 10, 2);
    const reference = table(
      num('income', normal(500, 50, 10)),
      num('tenure', tenure),
      cat('plan', pick(500, ['basic', 'plus', 'pro'])),
      cat('channel', pick(500, ['web', 'shop'])),
      num('score', normal(500)),
    );
    const current = table(
      num('income', normal(300, 60, 10)),
      num('tenure', tenure.slice(100, 400)),
      cat('plan', [...pick(290, ['basic', 'plus', 'pro']), ...new Array(10).fill('trial')]),
      cat('channel', pick(300, ['web', 'shop'])),
      num('score', new Float64Array(300).fill(Number.NaN)),
    );
    const text = formatDriftReport(compareTables(reference, current));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Drift: reference 500 rows, current 300 rows (* marks the deciding statistic)');
    expect(lines[2]).toMatch(
      /^column\s+kind\s+ref\s+cur\s+KS D\s+KS p\s+PSI\s+W\s+W\/σ\s+χ²\s+χ² p\s+JS\s+z p\s+verdict$/,
    );
    const income = lines.find((line) => line.startsWith('income')) as string;
    expect(income).toMatch(/^income\s+numeric\s+500\s+300\s+[\d.]+\s+[\d.e-]+\*\s/);
    expect(income).toMatch(/drifted: KS p [\d.e-]+ < 0\.05$/);
    const tenureLine = lines.find((line) => line.startsWith('tenure')) as string;
    expect(tenureLine).toMatch(/ok: KS p [\d.]+ ≥ 0\.05$/);
    const plan = lines.find((line) => line.startsWith('plan')) as string;
    expect(plan).toMatch(/^plan\s+categorical\s+500\s+300\s+-\s+-\s+[\d.]+\s+-\s+-\s+[\d.]+\s+[\d.e-]+\*/);
    const channel = lines.find((line) => line.startsWith('channel')) as string;
    expect(channel).toMatch(/[\d.e-]+\*\s+(ok|drifted): z p /);
    expect(lines.find((line) => line.startsWith('score'))).toMatch(
      /not enough data: 0 current values \(at least 1 needed\)$/,
    );
    expect(text).toContain('plan: categories the reference never had: trial (10 current values;');
    expect(lines.at(-1)).toMatch(
      /^2 of 4 monitored columns drifted \(50%\) ≥ 50%: dataset drift \(1 column without enough data\)$/,
    );
  });

  it('says so when no dataset drift', () => {
    const base = [0, 1, 2, 3, 4].map(() => normal(400));
    const reference = table(...base.map((values, i) => num(`f${i}`, values)));
    const current = table(
      ...base.map((values, i) => num(`f${i}`, (i < 2 ? values.map((v) => v * 3) : values).slice(50, 350))),
    );
    const report = compareTables(reference, current);
    expect(report.drifted).toBe(2);
    expect(formatDriftReport(report).split('\n').at(-1)).toBe(
      '2 of 5 columns drifted (40%) < 50%: no dataset drift',
    );
  });
});
