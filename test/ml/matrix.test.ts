import { describe, expect, it } from 'vitest';
import {
  cholesky,
  choleskySolve,
  fromRows,
  matrix,
  selectRows,
  solveSpd,
  toRows,
  weightedGram,
} from '../../src/stages/ml/matrix.ts';

describe('matrix', () => {
  it('builds from rows and back, and selects rows', () => {
    const m = fromRows([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(m.rows).toBe(3);
    expect(m.cols).toBe(2);
    expect(toRows(selectRows(m, [2, 0, 2]))).toEqual([
      [5, 6],
      [1, 2],
      [5, 6],
    ]);
    expect(() => matrix(2, 2, new Float64Array(3))).toThrow(/needs 4 values/);
    expect(() => fromRows([[1, 2], [3]])).toThrow(/row 1/);
  });

  it('factors the textbook 3×3 example exactly', () => {
    // A = L Lᵀ with L = [[2,0,0],[6,1,0],[-8,5,3]] (the classic worked example).
    const A = fromRows([
      [4, 12, -16],
      [12, 37, -43],
      [-16, -43, 98],
    ]);
    const L = cholesky(A);
    expect(L && toRows(L)).toEqual([
      [2, 0, 0],
      [6, 1, 0],
      [-8, 5, 3],
    ]);
    // A x = b with x = (1, 2, 3): b = A x.
    const x = choleskySolve(L ?? A, [4 + 24 - 48, 12 + 74 - 129, -16 - 86 + 294]);
    expect(Array.from(x).map((v) => Number(v.toFixed(10)))).toEqual([1, 2, 3]);
  });

  it('reports a matrix that is not positive definite instead of throwing', () => {
    expect(
      cholesky(
        fromRows([
          [1, 2],
          [2, 1],
        ]),
      ),
    ).toBeNull();
    expect(
      solveSpd(
        fromRows([
          [1, 1],
          [1, 1],
        ]),
        [1, 1],
      ),
    ).toBeNull();
  });

  it('solves badly scaled systems accurately thanks to equilibration', () => {
    // diag(1e12, 1e-6) with a coupling term; solution (1, 1).
    const A = fromRows([
      [1e12, 1e2],
      [1e2, 1e-6 + 1e-7],
    ]);
    const x = solveSpd(A, [1e12 + 1e2, 1e2 + 1e-6 + 1e-7]);
    expect(x?.[0]).toBeCloseTo(1, 8);
    expect(x?.[1]).toBeCloseTo(1, 6);
  });

  it('computes weighted Gram matrices with and without the intercept column', () => {
    const X = fromRows([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
    ]);
    const w = Float64Array.of(1, 2, 0, 1, 0.5);
    const g = weightedGram(X, w, true);
    // Σ w x xᵀ by hand, extended with Σ w x and Σ w.
    const expected = [
      [1 + 18 + 49 + 40.5, 2 + 24 + 56 + 45, 1 + 6 + 7 + 4.5],
      [2 + 24 + 56 + 45, 4 + 32 + 64 + 50, 2 + 8 + 8 + 5],
      [1 + 6 + 7 + 4.5, 2 + 8 + 8 + 5, 4.5],
    ];
    expect(toRows(g)).toEqual(expected);
    expect(toRows(weightedGram(X, null, false))).toEqual([
      [165, 190],
      [190, 220],
    ]);
  });
});
