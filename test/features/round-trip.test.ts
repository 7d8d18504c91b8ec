import { describe, expect, it } from 'vitest';
import { applyTransform, fitTransform } from '../../src/stages/features/transform.ts';
import { loadFeatureTransform } from '../../src/stages/features/transform-schema.ts';
import { table } from './table-fixture.ts';

const bytes = (data: Float64Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** 3000 rows of awkward doubles, missing values, -0, skewed categories and unseen ones. */
function dataset(n: number, offset: number) {
  const plans = ['basic', 'premium', 'pro', 'team', 'edu', 'trial'];
  const x: (number | null)[] = [];
  const z: (number | null)[] = [];
  const plan: (string | null)[] = [];
  const active: (boolean | null)[] = [];
  const y: number[] = [];
  for (let j = 0; j < n; j++) {
    const i = j + offset;
    x.push(i % 17 === 0 ? null : (Math.sin(i) * 1e3) / 7 + 1e-9 * i);
    z.push(i % 5 === 0 ? null : i % 3 === 0 ? -0 : Math.exp(Math.cos(i * 0.37)));
    plan.push(i % 13 === 0 ? null : i % 29 === 0 ? `rare-${i}` : (plans[(i * i) % plans.length] ?? null));
    active.push(i % 11 === 0 ? null : i % 4 === 1);
    y.push(i % 3);
  }
  return table({ x, z, plan, active, y }, { active: 'boolean' });
}

describe('fit → JSON → apply', () => {
  const train = dataset(3000, 0);
  const test = dataset(500, 3000);
  const specs = [
    {},
    { impute: { numeric: 'median' as const, categorical: 'most_frequent' as const }, scale: 'none' as const },
    { scale: 'minmax' as const, one_hot: { top_k: 3 } },
    { impute: { numeric: 'zero' as const } },
  ];

  for (const spec of specs) {
    it(`is bit-identical after a JSON round trip with ${JSON.stringify(spec)}`, () => {
      const fitted = fitTransform(train, { target: 'y', task: 'classification', spec });
      const loaded = loadFeatureTransform(JSON.parse(JSON.stringify(fitted)));
      expect(loaded).toEqual(fitted);
      for (const input of [train, test]) {
        const a = applyTransform(fitted, input);
        const b = applyTransform(loaded, input);
        expect([b.rows, b.cols]).toEqual([a.rows, a.cols]);
        expect(bytes(b.data).equals(bytes(a.data))).toBe(true);
      }
    });
  }

  it('gives serving rows (JSON objects) the same bytes as the table', () => {
    const fitted = loadFeatureTransform(
      JSON.parse(JSON.stringify(fitTransform(train, { target: 'y', task: 'regression' }))),
    );
    const columns = Object.fromEntries(test.columns.map((c) => [c.name, c.values]));
    const objects = Array.from({ length: test.rowCount }, (_, i) =>
      JSON.parse(
        JSON.stringify({
          x: Number.isNaN(columns.x?.[i]) ? null : columns.x?.[i],
          z: Number.isNaN(columns.z?.[i]) ? null : columns.z?.[i],
          plan: columns.plan?.[i],
          active: Number.isNaN(columns.active?.[i]) ? 'NA' : columns.active?.[i] === 1 ? 'yes' : false,
        }),
      ),
    );
    expect(bytes(applyTransform(fitted, objects).data).equals(bytes(applyTransform(fitted, test).data))).toBe(
      true,
    );
  });

  it('stores -0 as 0, which is what JSON would bring back', () => {
    const data = table({ x: [-0, null, -0, 5, -0], y: [1, 2, 3, 4, 5] });
    const fitted = fitTransform(data, {
      target: 'y',
      task: 'regression',
      spec: { impute: { numeric: 'median' }, scale: 'none' },
    });
    expect(Object.is(fitted.inputs[0]?.kind === 'numeric' && fitted.inputs[0].impute, 0)).toBe(true);
    const loaded = loadFeatureTransform(JSON.parse(JSON.stringify(fitted)));
    expect(bytes(applyTransform(loaded, data).data).equals(bytes(applyTransform(fitted, data).data))).toBe(
      true,
    );
  });
});
