import { describe, expect, it } from 'vitest';
import { contentHash } from '../../src/stages/data/hash.ts';
import { type CategoricalProfile, type NumericProfile, profileTable } from '../../src/stages/data/profile.ts';
import {
  CHURN,
  churnLogit,
  GENERATORS,
  generateChurn,
  generateHousing,
  generateSynthetic,
  HOUSING,
  HOUSING_NOISE,
  housingPrice,
} from '../../src/stages/data/synthetic.ts';
import type { Contract, Plan } from '../../src/stages/data/synthetic-churn.ts';
import type { Neighbourhood } from '../../src/stages/data/synthetic-housing.ts';
import { columnNames, getColumn, type Table } from '../../src/stages/data/table.ts';
import { rocAuc } from '../../src/stages/ml/metrics.ts';

const numbers = (table: Table, name: string): Float64Array => {
  const column = getColumn(table, name);
  if (column.type !== 'numeric') throw new Error(`${name} is ${column.type}`);
  return column.values;
};
const strings = (table: Table, name: string): (string | null)[] => {
  const column = getColumn(table, name);
  if (column.type !== 'categorical' && column.type !== 'text') throw new Error(`${name} is ${column.type}`);
  return column.values;
};
const mean = (values: Float64Array) => values.reduce((sum, value) => sum + value, 0) / values.length;
const share = (values: (string | null)[], value: string) =>
  values.filter((v) => v === value).length / values.length;

describe('churn generator', () => {
  const table = generateChurn({ rows: 20_000, seed: 7 });

  it('has the documented columns and types', () => {
    expect(table.rowCount).toBe(20_000);
    expect(table.columns.map((column) => `${column.name}:${column.type}`)).toEqual([
      'customer_id:text',
      'email:text',
      'tenure:numeric',
      'monthly_charges:numeric',
      'total_charges:numeric',
      'plan:categorical',
      'support_calls:numeric',
      'contract:categorical',
      'churned:numeric',
    ]);
    expect(strings(table, 'customer_id')[0]).toBe('C000001');
    expect(strings(table, 'email')[41]).toBe('user42@example.com');
    expect(new Set(strings(table, 'plan'))).toEqual(new Set(['basic', 'standard', 'premium']));
    expect(new Set(strings(table, 'contract'))).toEqual(new Set(['month', 'year', 'two_year']));
    expect(new Set(numbers(table, 'churned'))).toEqual(new Set([0, 1]));
    const tenure = profileTable(table).profiles.find((p) => p.name === 'tenure') as NumericProfile;
    expect(tenure).toMatchObject({ missing: 0 });
    expect(tenure.min).toBeGreaterThanOrEqual(1);
    expect(tenure.max).toBeLessThanOrEqual(72);
    expect(CHURN).toMatchObject({ target: 'churned', task: 'classification', pii: ['customer_id', 'email'] });
  });

  it('draws the target from a learnable logistic model: true-score AUC about 0.85', () => {
    const tenure = numbers(table, 'tenure');
    const charges = numbers(table, 'monthly_charges');
    const calls = numbers(table, 'support_calls');
    const contract = strings(table, 'contract');
    const plan = strings(table, 'plan');
    const score = Float64Array.from({ length: table.rowCount }, (_, i) =>
      churnLogit({
        tenure: tenure[i] ?? 0,
        monthly_charges: charges[i] ?? 0,
        support_calls: calls[i] ?? 0,
        contract: contract[i] as Contract,
        plan: plan[i] as Plan,
      }),
    );
    const churned = numbers(table, 'churned');
    expect(rocAuc(churned, score)).toBeGreaterThan(0.83);
    expect(rocAuc(churned, score)).toBeLessThan(0.87);
    expect(mean(churned)).toBeGreaterThan(0.2);
    expect(mean(churned)).toBeLessThan(0.3);
  });

  it('is identical for the same seed and different for another', () => {
    expect(contentHash(generateChurn({ rows: 20_000, seed: 7 }))).toBe(contentHash(table));
    expect(generateChurn({ rows: 2000, seed: 7 })).toEqual(generateChurn({ rows: 2000, seed: 7 }));
    expect(contentHash(generateChurn({ rows: 20_000, seed: 8 }))).not.toBe(contentHash(table));
    expect(generateSynthetic('churn', { rows: 500, seed: 7 })).toEqual(generateChurn({ rows: 500, seed: 7 }));
  });

  it('shifts numeric means and category shares in proportion to drift', () => {
    const at = (drift: number) => generateChurn({ rows: 5000, seed: 7, drift });
    const [none, half, full] = [at(0), at(0.5), at(1)] as [Table, Table, Table];
    const tenure = [none, half, full].map((t) => mean(numbers(t, 'tenure')));
    const charges = [none, half, full].map((t) => mean(numbers(t, 'monthly_charges')));
    const calls = [none, half, full].map((t) => mean(numbers(t, 'support_calls')));
    const premium = [none, half, full].map((t) => share(strings(t, 'plan'), 'premium'));
    const monthly = [none, half, full].map((t) => share(strings(t, 'contract'), 'month'));
    // Monotone, and large: well beyond sampling noise at 5000 rows.
    expect(tenure[0]).toBeGreaterThan((tenure[1] ?? 0) + 3);
    expect(tenure[1]).toBeGreaterThan((tenure[2] ?? 0) + 3);
    expect(charges[1]).toBeGreaterThan((charges[0] ?? 0) + 10);
    expect(charges[2]).toBeGreaterThan((charges[1] ?? 0) + 10);
    expect(calls[2]).toBeCloseTo(2 * (calls[0] ?? 0), 0);
    // Shares move linearly: premium 20% -> 35% -> 50%, monthly contracts 55% -> 67.5% -> 80%.
    expect(premium[0]).toBeCloseTo(0.2, 1);
    expect(premium[1]).toBeCloseTo(0.35, 1);
    expect(premium[2]).toBeCloseTo(0.5, 1);
    expect(monthly[0]).toBeCloseTo(0.55, 1);
    expect(monthly[1]).toBeCloseTo(0.675, 1);
    expect(monthly[2]).toBeCloseTo(0.8, 1);
    // No drift is the reference distribution itself.
    expect(generateChurn({ rows: 5000, seed: 7, drift: 0 })).toEqual(generateChurn({ rows: 5000, seed: 7 }));
  });

  it('rejects bad options', () => {
    expect(() => generateChurn({ rows: 0 })).toThrow('invalid synthetic data options: rows:');
    expect(() => generateChurn({ drift: 1.5 })).toThrow(/drift: /);
    expect(() => generateChurn({ seed: 1.5 })).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('housing generator', () => {
  const table = generateHousing({ rows: 20_000, seed: 11 });

  it('has the documented columns', () => {
    expect(columnNames(table)).toEqual(['area', 'rooms', 'age', 'distance_center', 'neighbourhood', 'price']);
    expect(getColumn(table, 'neighbourhood').type).toBe('categorical');
    expect(GENERATORS).toEqual({ churn: CHURN, housing: HOUSING });
    expect(HOUSING).toMatchObject({ target: 'price', task: 'regression' });
  });

  it('prices houses linearly plus noise of the documented size', () => {
    const area = numbers(table, 'area');
    const rooms = numbers(table, 'rooms');
    const age = numbers(table, 'age');
    const distance = numbers(table, 'distance_center');
    const place = strings(table, 'neighbourhood');
    const price = numbers(table, 'price');
    const residuals = Float64Array.from({ length: table.rowCount }, (_, i) => {
      const truth = housingPrice({
        area: area[i] ?? 0,
        rooms: rooms[i] ?? 0,
        age: age[i] ?? 0,
        distance_center: distance[i] ?? 0,
        neighbourhood: place[i] as Neighbourhood,
      });
      return (price[i] ?? 0) - truth;
    });
    const m = mean(residuals);
    const sd = Math.sqrt(mean(residuals.map((r) => (r - m) ** 2)));
    expect(Math.abs(m)).toBeLessThan(1500);
    expect(sd).toBeGreaterThan(HOUSING_NOISE * 0.9);
    expect(sd).toBeLessThan(HOUSING_NOISE * 1.1);
  });

  it('is deterministic and drifts measurably', () => {
    expect(contentHash(generateHousing({ rows: 20_000, seed: 11 }))).toBe(contentHash(table));
    const drifted = generateHousing({ rows: 20_000, seed: 11, drift: 1 });
    expect(mean(numbers(drifted, 'area')) / mean(numbers(table, 'area'))).toBeCloseTo(1.2, 1);
    expect(mean(numbers(drifted, 'distance_center'))).toBeGreaterThan(
      mean(numbers(table, 'distance_center')) + 2,
    );
    const frequencies = (t: Table) =>
      (profileTable(t).profiles.find((p) => p.name === 'neighbourhood') as CategoricalProfile).frequencies;
    const industrial = (t: Table) => frequencies(t).find((f) => f.value === 'industrial')?.share ?? 0;
    expect(industrial(table)).toBeCloseTo(0.15, 1);
    expect(industrial(drifted)).toBeCloseTo(0.3, 1);
  });
});
