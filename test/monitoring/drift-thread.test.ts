import { describe, expect, it } from 'vitest';
import type { Table } from '../../src/stages/data/table.ts';
import { compareTables } from '../../src/stages/drift/index.ts';
import { createDriftComparer } from '../../src/workflows/drift-thread.ts';

function table(rows: number, seed: number, shift = 0): Table {
  let x = seed;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const columns: Table['columns'] = Array.from({ length: 8 }, (_, c) => ({
    name: `f${c}`,
    type: 'numeric' as const,
    values: Float64Array.from({ length: rows }, () => next() + (c === 0 ? shift : 0)),
  }));
  columns.push({
    name: 'plan',
    type: 'categorical',
    values: Array.from({ length: rows }, () => (next() < 0.3 ? 'a' : 'b')),
  });
  return { columns, rowCount: rows };
}

describe('drift comparisons in their own thread', () => {
  it('gives the report compareTables gives, while the event loop keeps turning', async () => {
    const comparer = createDriftComparer();
    try {
      const reference = table(100_000, 1);
      const current = table(300_000, 2, 0.2);
      let turns = 0;
      const timer = setInterval(() => turns++, 1);
      const report = await comparer.compare(reference, current, { psiBins: 10 });
      clearInterval(timer);
      // Run on this thread, the comparison would have held the loop: no turn in between.
      expect(turns).toBeGreaterThan(0);
      expect(report).toEqual(compareTables(reference, current, { psiBins: 10 }));
      expect(report.columns.find((c) => c.column === 'f0')?.drifted).toBe(true);
    } finally {
      await comparer.close();
    }
  });

  it('answers a bad request with its error, and keeps serving the next one', async () => {
    const comparer = createDriftComparer();
    try {
      const reference = table(100, 1);
      const refused = await comparer
        .compare(reference, reference, { columns: ['nope'] })
        .catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringMatching(/nope/) });
      expect((await comparer.compare(reference, reference, {})).datasetDrift).toBe(false);
    } finally {
      await comparer.close();
    }
  });
});
