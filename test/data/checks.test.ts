import { describe, expect, it } from 'vitest';
import { ChecksSpec, formatCheckReport, parseChecksSpec, runChecks } from '../../src/stages/data/checks.ts';
import { parseCsv } from '../../src/stages/data/csv.ts';
import { generateChurn } from '../../src/stages/data/synthetic.ts';
import { createTable, type Table } from '../../src/stages/data/table.ts';

/**
 * Twenty rows: `charges` has 3 missing (15%), `tenure` has text in row 17, `plan` has one
 * "gold", `age` runs from -1 to 80, `notes` is empty, `churned` has both classes.
 */
const rows = Array.from({ length: 20 }, (_, k) => {
  const i = k + 1;
  const charges = i % 7 === 0 || i === 1 ? '' : String(20 + i);
  const tenure = i === 17 ? 'abc' : String(i);
  const plan = i === 5 ? 'gold' : ['basic', 'premium'][i % 2];
  const age = i === 3 ? -1 : i === 9 ? 80 : 30 + i;
  return `${i},${charges},${tenure},${plan},${age},,${i % 2}`;
});
const table = parseCsv(['id,charges,tenure,plan,age,notes,churned', ...rows].join('\n'));

const only = (outcome: ReturnType<typeof runChecks>, check: string) =>
  outcome.results.filter((result) => result.check === check);

describe('automatic checks', () => {
  it('finds the target and its classes', () => {
    const outcome = runChecks(table, { target: 'churned', task: 'classification' });
    expect(only(outcome, 'target')).toEqual([
      {
        check: 'target',
        column: 'churned',
        passed: true,
        observed: 'present',
        expected: 'present',
        message: 'target: column "churned" is present',
      },
    ]);
    expect(only(outcome, 'target_classes')[0]).toMatchObject({ passed: true, observed: '2 classes' });
  });

  it('fails a missing target, naming the columns there are', () => {
    const [result] = only(runChecks(table, { target: 'churn', task: 'classification' }), 'target');
    expect(result).toMatchObject({ passed: false, column: 'churn', observed: 'absent' });
    expect(result?.message).toBe(
      'target: column "churn" not found (columns: id, charges, tenure, plan, age, notes, churned)',
    );
  });

  it('fails a classification target with one class', () => {
    const oneClass = parseCsv('x,y\n1,yes\n2,yes\n3,\n');
    const [result] = only(runChecks(oneClass, { target: 'y', task: 'classification' }), 'target_classes');
    expect(result?.passed).toBe(false);
    expect(result?.message).toBe(
      'target_classes: column "y" has 1 class (true); classification needs at least 2',
    );
    const labels = parseCsv('x,y\n1,a\n2,a\n');
    expect(
      only(runChecks(labels, { target: 'y', task: 'classification' }), 'target_classes')[0]?.message,
    ).toBe('target_classes: column "y" has 1 class ("a"); classification needs at least 2');
  });

  it('checks a regression target for variance', () => {
    const varied = only(runChecks(table, { target: 'age', task: 'regression' }), 'target_variance')[0];
    expect(varied).toMatchObject({ passed: true, observed: 'from -1 to 80' });
    const constant = parseCsv('x,y\n1,42\n2,42\n3,NA\n');
    expect(
      only(runChecks(constant, { target: 'y', task: 'regression' }), 'target_variance')[0],
    ).toMatchObject({
      passed: false,
      message: 'target_variance: column "y" has no variance (every value is 42)',
    });
    expect(
      only(runChecks(table, { target: 'plan', task: 'regression' }), 'target_variance')[0]?.message,
    ).toBe('target_variance: column "plan" is categorical; regression needs a numeric target');
  });

  it('fails entirely empty columns', () => {
    const results = only(runChecks(table), 'not_empty');
    expect(results).toHaveLength(7);
    expect(results.filter((result) => !result.passed)).toEqual([
      {
        check: 'not_empty',
        column: 'notes',
        passed: false,
        observed: '0 of 20 rows have a value',
        expected: 'at least one value',
        message: 'not_empty: column "notes" is entirely empty (no value in 20 rows)',
      },
    ]);
  });

  it('reports text in a declared numeric column with its row', () => {
    const [tenure, charges, missing] = only(
      runChecks(table, { checks: { numeric: ['tenure', 'charges', 'income'] } }),
      'numeric',
    );
    expect(tenure).toMatchObject({ passed: false, column: 'tenure', observed: '"abc"' });
    expect(tenure?.message).toBe('numeric: column "tenure" is numeric but row 17 has "abc"');
    expect(charges).toMatchObject({ passed: true });
    expect(missing?.message).toBe('numeric: column "income" is declared numeric but not found');
    // A string column whose values are all numbers (built outside the CSV reader) passes.
    const strings = createTable([{ name: 'n', type: 'categorical', values: ['1', null, '2.5'] }]);
    expect(runChecks(strings, { checks: { numeric: ['n'] } }).passed).toBe(true);
  });
});

describe('declared checks', () => {
  it('min_rows', () => {
    expect(only(runChecks(table, { checks: { min_rows: 20 } }), 'min_rows')[0]).toMatchObject({
      passed: true,
      message: 'min_rows: 20 rows (minimum 20)',
    });
    const [result] = only(runChecks(table, { checks: { min_rows: 100 } }), 'min_rows');
    expect(result).toEqual({
      check: 'min_rows',
      passed: false,
      observed: '20 rows',
      expected: 'at least 100 rows',
      message: 'min_rows: the data has 20 rows (minimum 100)',
    });
  });

  it('max_missing as one share for every column', () => {
    const results = only(runChecks(table, { checks: { max_missing: 0.05 } }), 'max_missing');
    expect(results).toHaveLength(7);
    expect(results.filter((result) => !result.passed).map((result) => result.message)).toEqual([
      'max_missing: column "charges" is 15.0% missing (limit 5.0%)',
      'max_missing: column "notes" is 100.0% missing (limit 5.0%)',
    ]);
    expect(results[1]).toMatchObject({
      column: 'charges',
      observed: '15.0% missing',
      expected: 'at most 5.0% missing',
    });
  });

  it('max_missing reads only its own keys', () => {
    const odd = parseCsv('constructor,toString\n1,\n2,3\n');
    const results = only(runChecks(odd, { checks: { max_missing: 0.6 } }), 'max_missing');
    expect(results.map((result) => [result.column, result.passed])).toEqual([
      ['constructor', true],
      ['toString', true],
    ]);
    expect(only(runChecks(odd, { checks: { max_missing: { other: 0.1 } } }), 'max_missing')).toHaveLength(1);
  });

  it('max_missing per column, with * for the rest', () => {
    const outcome = runChecks(table, {
      checks: { max_missing: { charges: 0.2, notes: 1, '*': 0, salary: 0.1 } },
    });
    const results = only(outcome, 'max_missing');
    expect(results.filter((result) => !result.passed).map((result) => result.message)).toEqual([
      'max_missing: column "salary" not found',
    ]);
    expect(results).toHaveLength(8);
    const named = only(runChecks(table, { checks: { max_missing: { charges: 0.1 } } }), 'max_missing');
    expect(named.map((result) => [result.column, result.passed])).toEqual([['charges', false]]);
  });

  it('ranges', () => {
    const outcome = runChecks(table, {
      checks: {
        ranges: {
          age: { min: 0, max: 75 },
          id: { min: 1 },
          charges: { max: 40 },
          plan: { min: 0 },
          x: { max: 1 },
        },
      },
    });
    const [age, id, charges, plan, x] = only(outcome, 'ranges');
    expect(age).toEqual({
      check: 'ranges',
      column: 'age',
      passed: false,
      observed: 'from -1 to 80',
      expected: 'between 0 and 75',
      message: 'ranges: column "age" should be between 0 and 75 but 2 values are not (row 3 has -1)',
    });
    expect(id).toMatchObject({ passed: true, message: 'ranges: column "id" is at least 1' });
    expect(charges).toMatchObject({ passed: true, expected: 'at most 40', observed: 'from 22 to 40' });
    expect(plan?.message).toBe('ranges: column "plan" is categorical; ranges need a numeric column');
    expect(x?.message).toBe('ranges: column "x" not found');
    const high = only(runChecks(table, { checks: { ranges: { charges: { max: 39 } } } }), 'ranges')[0];
    expect(high?.message).toBe(
      'ranges: column "charges" should be at most 39 but 1 value is not (row 20 has 40)',
    );
  });

  it('allowed', () => {
    const outcome = runChecks(table, {
      checks: { allowed: { plan: ['basic', 'premium'], churned: [0, 1], id: ['1', 2], nope: ['a'] } },
    });
    const [plan, churned, id, nope] = only(outcome, 'allowed');
    expect(plan).toEqual({
      check: 'allowed',
      column: 'plan',
      passed: false,
      observed: '"gold"',
      expected: 'one of basic, premium',
      message: 'allowed: column "plan" has values not in [basic, premium]: "gold" (1 row, first row 5)',
    });
    expect(churned).toMatchObject({
      passed: true,
      message: 'allowed: column "churned" holds only one of 0, 1',
    });
    expect(id?.passed).toBe(false);
    expect(id?.message).toBe(
      'allowed: column "id" has values not in [1, 2]: 3 (1 row, first row 3), 4 (1 row, first row 4), ' +
        '5 (1 row, first row 5), 6 (1 row, first row 6), 7 (1 row, first row 7) and 13 more',
    );
    expect(nope?.message).toBe('allowed: column "nope" not found');
    const flags = parseCsv('f\nyes\nno\nyes\n');
    expect(runChecks(flags, { checks: { allowed: { f: [true, false] } } }).passed).toBe(true);
    expect(runChecks(flags, { checks: { allowed: { f: [1] } } }).results[1]?.message).toBe(
      'allowed: column "f" has values not in [1]: false (1 row, first row 2)',
    );
  });

  it('passes a clean synthetic dataset with a realistic spec', () => {
    const churn = generateChurn({ rows: 1000, seed: 3 });
    const outcome = runChecks(churn, {
      task: 'classification',
      target: 'churned',
      checks: {
        min_rows: 500,
        max_missing: 0.01,
        numeric: ['tenure', 'monthly_charges'],
        ranges: { tenure: { min: 1, max: 72 }, support_calls: { min: 0 } },
        allowed: {
          plan: ['basic', 'standard', 'premium'],
          contract: ['month', 'year', 'two_year'],
          churned: [0, 1],
        },
      },
    });
    expect(outcome.results.filter((result) => !result.passed)).toEqual([]);
    expect(outcome.passed).toBe(true);
    expect(formatCheckReport(outcome.results)).toBe(`✓ all ${outcome.results.length} checks passed`);
  });
});

describe('checks spec', () => {
  it('fills defaults', () => {
    expect(ChecksSpec.parse({})).toEqual({ ranges: {}, allowed: {}, numeric: [] });
    expect(parseChecksSpec(undefined)).toEqual({ ranges: {}, allowed: {}, numeric: [] });
  });

  it('lists every problem with its path in the spec', () => {
    const bad = {
      min_rows: -1,
      max_missing: 5,
      ranges: { age: {}, tenure: { min: 5, max: 1 } },
      allowed: { plan: [] },
      typo: true,
    };
    let error: unknown;
    try {
      parseChecksSpec(bad);
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ name: 'StewardError', code: 'PIPELINE_INVALID' });
    const message = (error as Error).message;
    expect(message).toContain('the checks section is invalid:');
    for (const path of [
      'checks.min_rows',
      'checks.max_missing',
      'checks.ranges.age',
      'checks.ranges.tenure',
    ]) {
      expect(message).toContain(`  ${path}: `);
    }
    expect(message).toContain('checks.ranges.age: give min, max or both');
    expect(message).toContain('checks.ranges.tenure: min must not be greater than max');
    expect(message).toContain('checks.allowed.plan: ');
    expect(message).toContain('typo');
    expect(() => runChecks(table, { checks: { max_missing: 5 } })).toThrow(
      'checks.max_missing: use a share between 0 and 1, e.g. 0.05 for 5%',
    );
  });
});

describe('formatCheckReport', () => {
  const failing = (t: Table) =>
    runChecks(t, {
      task: 'classification',
      target: 'churned',
      checks: {
        max_missing: { charges: 0.05 },
        numeric: ['tenure'],
        allowed: { plan: ['basic', 'premium'] },
      },
    });

  it('lists failures one per line, then counts the passes', () => {
    const outcome = failing(table);
    expect(outcome.passed).toBe(false);
    expect(formatCheckReport(outcome.results)).toBe(
      [
        '✗ not_empty: column "notes" is entirely empty (no value in 20 rows)',
        '✗ numeric: column "tenure" is numeric but row 17 has "abc"',
        '✗ max_missing: column "charges" is 15.0% missing (limit 5.0%)',
        '✗ allowed: column "plan" has values not in [basic, premium]: "gold" (1 row, first row 5)',
        '✓ 8 checks passed, 4 failed',
      ].join('\n'),
    );
  });

  it('cuts long failure lists', () => {
    const wide = createTable(
      Array.from({ length: 30 }, (_, i) => ({
        name: `c${i}`,
        type: 'numeric' as const,
        values: new Float64Array([Number.NaN]),
      })),
    );
    const report = formatCheckReport(runChecks(wide).results, { maxFailures: 3 }).split('\n');
    expect(report).toEqual([
      '✗ not_empty: column "c0" is entirely empty (no value in 1 row)',
      '✗ not_empty: column "c1" is entirely empty (no value in 1 row)',
      '✗ not_empty: column "c2" is entirely empty (no value in 1 row)',
      '✗ … and 27 more failures',
      '✓ 0 checks passed, 30 failed',
    ]);
  });
});
