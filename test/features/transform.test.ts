import { describe, expect, it } from 'vitest';
import { applyTransform, fitTransform } from '../../src/stages/features/transform.ts';
import { table } from './table-fixture.ts';

const rowsOf = (m: { rows: number; cols: number; data: Float64Array }): number[][] =>
  Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));

describe('fitTransform: column selection', () => {
  const data = table(
    {
      age: [30, 40, 50, 60],
      plan: ['basic', 'premium', 'basic', null],
      active: ['true', 'false', 'true', 'true'],
      comment: ['ok', 'slow', 'great', 'meh'],
      region: ['eu', 'eu', 'eu', 'eu'],
      churned: ['yes', 'no', 'no', 'yes'],
    },
    { active: 'boolean', comment: 'text' },
  );

  it('uses inferred types, drops text and constant columns, and skips the target', () => {
    const t = fitTransform(data, { target: 'churned', task: 'classification' });
    expect(t.inputs.map((s) => [s.name, s.kind])).toEqual([
      ['age', 'numeric'],
      ['plan', 'categorical'],
      ['active', 'boolean'], // a 1 / 0 feature, as the data layer stores booleans
    ]);
    expect(t.dropped.map((d) => [d.name, d.reason])).toEqual([
      ['comment', 'text'],
      ['region', 'constant'],
    ]);
    expect(t.dropped[0]?.note).toMatch(/free text/);
    expect(t.target).toEqual({ name: 'churned', task: 'classification', classes: ['no', 'yes'] });
    expect(t.features).toEqual([
      'age',
      'plan=basic',
      'plan=premium',
      'plan=__other__',
      'plan=__missing__', // always there with impute 'missing': serving may send null
      'active',
    ]);
  });

  it('reads a boolean the same from the table and from JSON, as a number or a category', () => {
    for (const spec of [{ scale: 'none' as const }, { categorical: ['active', 'plan'] }]) {
      const t = fitTransform(data, { target: 'churned', task: 'classification', spec });
      const objects = [
        { age: 30, plan: 'basic', active: true },
        { age: 40, plan: 'premium', active: 'false' },
        { age: 50, plan: 'basic', active: 'true' },
        { age: 60, plan: null, active: true },
      ];
      expect(applyTransform(t, objects)).toEqual(applyTransform(t, data));
    }
    const t = fitTransform(data, {
      target: 'churned',
      task: 'classification',
      spec: { categorical: ['active'] },
    });
    expect(t.features).toEqual(['active=true', 'active=false', 'active=__other__', 'active=__missing__']);
    const listed = fitTransform(data, {
      target: 'churned',
      task: 'classification',
      spec: { numeric: ['active'] },
    });
    expect(listed.inputs[0]?.kind).toBe('boolean');
    expect(
      Array.from(applyTransform(listed, [{ active: 'YES' }, { active: 0 }, { active: null }]).data),
    ).toEqual(
      Array.from(applyTransform(listed, [{ active: true }, { active: false }, { active: 'NA' }]).data),
    );
    expect(() => applyTransform(listed, [{ active: 'maybe' }])).toThrow(
      'column "active" is boolean, but row 0 has "maybe"; send true, false, 1 or 0',
    );
  });

  it('with explicit lists uses exactly those, with the listed kinds', () => {
    const t = fitTransform(data, {
      target: 'churned',
      task: 'classification',
      spec: { categorical: ['age', 'comment'], drop: ['plan'] },
    });
    expect(t.inputs.map((s) => [s.name, s.kind])).toEqual([
      ['age', 'categorical'],
      ['comment', 'categorical'],
    ]);
    expect(t.dropped.map((d) => [d.name, d.reason])).toEqual([
      ['plan', 'drop'],
      ['active', 'unselected'],
      ['region', 'unselected'],
    ]);
    expect(t.features.slice(0, 4)).toEqual(['age=30', 'age=40', 'age=50', 'age=60']);
  });

  it('names the column in spec mistakes', () => {
    const fitting =
      (spec: object, target = 'churned') =>
      () =>
        fitTransform(data, { target, task: 'classification', spec });
    expect(fitting({ numeric: ['agee'] })).toThrow('features.numeric lists "agee", which is not in the data');
    expect(fitting({ categorical: ['churned'] })).toThrow('lists "churned", which is the target');
    expect(fitting({}, 'label')).toThrow('the target column "label" is not in the data');
    expect(fitting({ scale: 'log' })).toThrow(/features spec is not valid:\n {2}scale:/);
    expect(fitting({ numeric: ['comment'] })).toThrow(
      'column "comment" is numeric, but row 0 has "ok", which is not a finite number',
    );
    expect(fitting({ drop: ['age', 'plan', 'active', 'comment'] })).toThrow(
      'no feature columns are left; left out: age (drop), plan (drop), active (drop), comment (drop), region (constant)',
    );
  });
});

describe('fitTransform: known values', () => {
  const x = [1, 2, null, 4, 10];
  const y = [0, 1, 0, 1, 0];

  it('mean imputation, then standard scaling with the population std of the imputed column', () => {
    const t = fitTransform(table({ x, y }), { target: 'y', task: 'regression' });
    // mean of present = 17/4 = 4.25; imputed column [1, 2, 4.25, 4, 10], mean 4.25
    // population variance = (3.25² + 2.25² + 0 + 0.25² + 5.75²) / 5 = 48.75 / 5 = 9.75
    expect(t.inputs[0]).toEqual({
      name: 'x',
      kind: 'numeric',
      impute: 4.25,
      center: 4.25,
      scale: Math.sqrt(9.75),
    });
    const m = applyTransform(t, table({ x, y }));
    const s = Math.sqrt(9.75);
    expect(Array.from(m.data)).toEqual([(1 - 4.25) / s, (2 - 4.25) / s, 0, (4 - 4.25) / s, (10 - 4.25) / s]);
  });

  it('median and zero imputation', () => {
    const median = fitTransform(table({ x, y }), {
      target: 'y',
      task: 'regression',
      spec: { impute: { numeric: 'median' }, scale: 'none' },
    });
    expect(median.inputs[0]).toMatchObject({ impute: 3, center: 0, scale: 1 });
    expect(Array.from(applyTransform(median, table({ x, y })).data)).toEqual([1, 2, 3, 4, 10]);
    const odd = fitTransform(table({ x: [5, null, 1, 3], y: [1, 2, 3, 4] }), {
      target: 'y',
      task: 'regression',
      spec: { impute: { numeric: 'median' } },
    });
    expect(odd.inputs[0]).toMatchObject({ impute: 3 });
    const zero = fitTransform(table({ x, y }), {
      target: 'y',
      task: 'regression',
      spec: { impute: { numeric: 'zero' }, scale: 'none' },
    });
    expect(Array.from(applyTransform(zero, table({ x, y })).data)).toEqual([1, 2, 0, 4, 10]);
  });

  it('minmax scaling maps the training range to [0, 1] and extrapolates beyond it', () => {
    const t = fitTransform(table({ x, y }), {
      target: 'y',
      task: 'regression',
      spec: { impute: { numeric: 'zero' }, scale: 'minmax' },
    });
    expect(t.inputs[0]).toMatchObject({ impute: 0, center: 0, scale: 10 });
    const m = applyTransform(t, [{ x: 5 }, { x: 20 }, { x: null }]);
    expect(Array.from(m.data)).toEqual([0.5, 2, 0]);
  });

  it('drops a constant numeric column, including one that is constant after imputation', () => {
    const t = fitTransform(
      table({ k: [7, 7, null, 7], n: [null, null, null, null], x: [1, 2, 3, 4], y: [1, 2, 3, 4] }),
      {
        target: 'y',
        task: 'regression',
      },
    );
    expect(t.dropped).toEqual([
      expect.objectContaining({ name: 'k', reason: 'constant' }),
      expect.objectContaining({ name: 'n', reason: 'constant' }),
    ]);
    const zero = fitTransform(table({ k: [7, 7, null, 7], y: [1, 2, 3, 4] }), {
      target: 'y',
      task: 'regression',
      spec: { impute: { numeric: 'zero' } },
    });
    expect(zero.inputs.map((s) => s.name)).toEqual(['k']);
  });

  it('keeps the top k categories by frequency, ties alphabetical, the rest in __other__', () => {
    const plan = ['b', 'c', 'a', 'c', 'b', 'd', 'c', 'Z', null];
    const t = fitTransform(table({ plan, y: plan.map((_, i) => i) }), {
      target: 'y',
      task: 'regression',
      spec: { one_hot: { top_k: 3 } },
    });
    // c×3, then b×2, then a/d/Z×1: code-unit order puts "Z" before "a"
    expect(t.inputs[0]).toEqual({
      name: 'plan',
      kind: 'categorical',
      categories: ['c', 'b', 'Z'],
      impute: 'missing',
    });
    expect(t.features).toEqual(['plan=c', 'plan=b', 'plan=Z', 'plan=__other__', 'plan=__missing__']);
    const m = applyTransform(t, [
      { plan: 'c' },
      { plan: 'a' },
      { plan: 'never-seen' },
      { plan: null },
      { plan: 'Z' },
    ]);
    expect(rowsOf(m)).toEqual([
      [1, 0, 0, 0, 0],
      [0, 0, 0, 1, 0],
      [0, 0, 0, 1, 0],
      [0, 0, 0, 0, 1],
      [0, 0, 1, 0, 0],
    ]);
  });

  it('most_frequent imputation folds missing into the top category', () => {
    const plan = ['b', 'a', 'b', null];
    const t = fitTransform(table({ plan, y: [1, 2, 3, 4] }), {
      target: 'y',
      task: 'regression',
      spec: { impute: { categorical: 'most_frequent' } },
    });
    expect(t.features).toEqual(['plan=b', 'plan=a', 'plan=__other__']);
    expect(rowsOf(applyTransform(t, table({ plan, y: [1, 2, 3, 4] })))).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    // one category plus missing is constant under most_frequent, informative under missing
    const one = table({ plan: ['a', null, 'a'], x: [1, 2, 3], y: [1, 2, 3] });
    const spec = { impute: { categorical: 'most_frequent' as const } };
    expect(fitTransform(one, { target: 'y', task: 'regression', spec }).dropped[0]?.reason).toBe('constant');
    expect(fitTransform(one, { target: 'y', task: 'regression' }).features[0]).toBe('plan=a');
  });

  it('refuses data that uses a reserved bucket name', () => {
    const data = table({ plan: ['a', '__other__'], y: [1, 2] });
    expect(() => fitTransform(data, { target: 'y', task: 'regression' })).toThrow(
      'column "plan" contains the value "__other__"',
    );
  });
});

describe('applyTransform: serving rows', () => {
  const data = table({
    age: [20, 30, 40, 50],
    plan: ['basic', 'premium', 'basic', 'pro'],
    y: [0, 1, 0, 1],
  });
  const t = fitTransform(data, { target: 'y', task: 'classification', spec: { scale: 'none' } });

  it('gives the same matrix for objects as for the table, ignoring extra fields', () => {
    const objects = [
      { age: 20, plan: 'basic', y: 0, email: 'a@b.c' },
      { age: '30', plan: 'premium' },
      { age: 40, plan: 'basic' },
      { age: 50, plan: 'pro' },
    ];
    expect(applyTransform(t, objects)).toEqual(applyTransform(t, data));
    expect(applyTransform(t, [])).toMatchObject({ rows: 0, cols: t.features.length });
  });

  it('imputes missing values and sends unseen categories to __other__', () => {
    const m = applyTransform(t, [
      { age: null, plan: 'enterprise' },
      { age: ' 20 ', plan: ' basic ' }, // trimmed, as the CSV reader trims cells
      { age: 'NA', plan: 'NA' }, // the data layer's missing-cell text
    ]);
    expect(m.featureNames).toEqual(t.features);
    expect(rowsOf(m)).toEqual([
      [35, 0, 0, 0, 1, 0],
      [20, 1, 0, 0, 0, 0],
      [35, 0, 0, 0, 0, 1],
    ]);
  });

  it('names the column when a field is absent or a number is not a number', () => {
    expect(() => applyTransform(t, [{ age: 1, plan: 'basic' }, { age: 2 }])).toThrow(
      'row 1 has no field "plan", which the features need; send null if the value is missing',
    );
    expect(() => applyTransform(t, [{ age: 'forty', plan: 'basic' }])).toThrow(
      'column "age" is numeric, but row 0 has "forty", which is not a finite number',
    );
    expect(() => applyTransform(t, [{ age: '0x1f', plan: 'basic' }])).toThrow('column "age" is numeric');
    expect(() => applyTransform(t, [{ age: Number.POSITIVE_INFINITY, plan: 'basic' }])).toThrow(
      'row 0 has Infinity, which is not a finite number',
    );
    expect(() => applyTransform(t, [{ age: true, plan: 'basic' }])).toThrow('row 0 has true, which is not');
    expect(() => applyTransform(t, [{ age: 1, plan: { tier: 1 } }])).toThrow('column "plan" is categorical');
    expect(() => applyTransform(t, table({ plan: ['basic'] }))).toThrow(
      'the data has no column "age", which the features need',
    );
  });
});
