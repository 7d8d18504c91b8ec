import { type Matrix, selectRows } from '../../src/stages/ml/matrix.ts';
import { holdoutSplit } from '../../src/stages/ml/split.ts';
import type { Dataset } from './synthetic.ts';

/** A seeded 75/25 train/test split of a dataset. */
export function trainTest(data: Dataset, seed = 0): { train: Dataset; test: Dataset } {
  const { train, test } = holdoutSplit(data.X.rows, { testFraction: 0.25, seed });
  const part = (rows: Int32Array): Dataset => ({
    X: selectRows(data.X, rows),
    y: Float64Array.from(rows, (i) => data.y[i] ?? 0),
  });
  return { train: part(train), test: part(test) };
}

/** Byte-for-byte equality of two float arrays (stricter than ===: tells -0 from 0). */
export function sameBits(a: Float64Array, b: Float64Array): boolean {
  return (
    a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    )
  );
}

/** JSON text and back, as a model takes on its way to the database and out. */
export function roundTrip(model: { toJSON(): unknown }): unknown {
  return JSON.parse(JSON.stringify(model));
}

/** Column `j` of a matrix. */
export function column(m: Matrix, j: number): Float64Array {
  return Float64Array.from({ length: m.rows }, (_, i) => m.data[i * m.cols + j] ?? 0);
}
