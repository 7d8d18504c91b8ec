import { describe, expect, it } from 'vitest';
import { fitLinear, LinearModel } from '../../src/stages/ml/linear.ts';
import { fromRows } from '../../src/stages/ml/matrix.ts';
import { r2, rmse } from '../../src/stages/ml/metrics.ts';
import { roundTrip, sameBits, trainTest } from './helpers.ts';
import { baselineRmse, makeRegression } from './synthetic.ts';

const column = (values: number[]) => fromRows(values.map((v) => [v]));

describe('linear regression', () => {
  it('matches the closed-form least-squares line', () => {
    // x̄ = 2.5, ȳ = 3.75, Sxy = 3.5, Sxx = 5 → slope 0.7, intercept 3.75 - 0.7·2.5 = 2.
    const model = fitLinear(column([1, 2, 3, 4]), [2, 4, 5, 4]);
    expect(model.coefficients[0]).toBeCloseTo(0.7, 12);
    expect(model.intercept).toBeCloseTo(2, 12);
  });

  it('ridge shrinks the slope to Sxy / (Sxx + α) and leaves the intercept unpenalised', () => {
    const model = fitLinear(column([1, 2, 3, 4]), [2, 4, 5, 4], { alpha: 1 });
    expect(model.coefficients[0]).toBeCloseTo(3.5 / 6, 12);
    expect(model.intercept).toBeCloseTo(3.75 - 2.5 * (3.5 / 6), 12);
  });

  it('recovers exact coefficients from noiseless data', () => {
    const rows = [
      [1, 0, 2],
      [0, 1, 1],
      [2, 3, 0],
      [1, 1, 1],
      [4, 0, -1],
      [-2, 5, 3],
    ];
    const y = rows.map(([a = 0, b = 0, c = 0]) => 1 + 2 * a - 3 * b + 0.5 * c);
    const model = fitLinear(fromRows(rows), y);
    expect(Array.from(model.coefficients).map((v) => Number(v.toFixed(9)))).toEqual([2, -3, 0.5]);
    expect(model.intercept).toBeCloseTo(1, 9);
  });

  it('fits through the origin without an intercept', () => {
    const model = fitLinear(column([1, 2, 3]), [2.1, 3.9, 6.0], { fitIntercept: false });
    // w = Σxy / Σx² = (2.1 + 7.8 + 18) / 14
    expect(model.coefficients[0]).toBeCloseTo(27.9 / 14, 12);
    expect(model.intercept).toBe(0);
  });

  it('gives the minimum-norm solution for collinear features', () => {
    // x₂ = 2x₁ and y = 3x₁: the shortest w with w₁ + 2w₂ = 3 is (0.6, 1.2).
    const X = fromRows([1, 2, 3, 4, 5].map((v) => [v, 2 * v]));
    const model = fitLinear(X, [3, 6, 9, 12, 15]);
    expect(model.coefficients[0]).toBeCloseTo(0.6, 4);
    expect(model.coefficients[1]).toBeCloseTo(1.2, 4);
    expect(rmse([3, 6, 9, 12, 15], model.predict(X))).toBeLessThan(1e-6);
  });

  it('beats the constant baseline by a clear margin on synthetic data', () => {
    const { train, test } = trainTest(makeRegression(2000, 8, 1));
    const model = fitLinear(train.X, train.y);
    const error = rmse(test.y, model.predict(test.X));
    expect(error).toBeLessThan(0.6 * baselineRmse(test.y));
    expect(r2(test.y, model.predict(test.X))).toBeGreaterThan(0.6);
  });

  it('predicts identically after a JSON round trip', () => {
    const { train, test } = trainTest(makeRegression(300, 4, 2));
    const model = fitLinear(train.X, train.y, { alpha: 0.5 });
    const loaded = LinearModel.fromJSON(roundTrip(model));
    expect(sameBits(loaded.predict(test.X), model.predict(test.X))).toBe(true);
  });

  it('rejects missing values and wrong widths with clear messages', () => {
    expect(() => fitLinear(fromRows([[1], [Number.NaN]]), [1, 2])).toThrow(/row 1, column 0/);
    const model = fitLinear(column([1, 2, 3]), [1, 2, 3]);
    expect(() => model.predict(fromRows([[1, 2]]))).toThrow(/fitted on 1 features but got 2/);
  });
});
