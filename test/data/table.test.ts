import { describe, expect, it } from 'vitest';
import {
  columnNames,
  createTable,
  displayValue,
  dropColumns,
  getColumn,
  isMissingAt,
  missingCount,
  pickColumns,
} from '../../src/stages/data/table.ts';

const table = createTable([
  { name: 'x', type: 'numeric', values: Float64Array.from([1, Number.NaN, 3]) },
  { name: 'flag', type: 'boolean', values: Float64Array.from([1, 0, Number.NaN]) },
  { name: 'plan', type: 'categorical', values: ['a', null, 'b'] },
  { name: 'email', type: 'text', values: ['u1@example.com', 'u2@example.com', null] },
]);

describe('table', () => {
  it('counts rows from its columns', () => {
    expect(table.rowCount).toBe(3);
    expect(createTable([], 5).rowCount).toBe(5);
  });

  it('rejects unequal lengths, duplicate and empty names', () => {
    expect(() =>
      createTable([
        { name: 'a', type: 'numeric', values: new Float64Array(2) },
        { name: 'b', type: 'categorical', values: ['x'] },
      ]),
    ).toThrow('column "b" has 1 values but the table has 2 rows');
    expect(() =>
      createTable([
        { name: 'a', type: 'numeric', values: new Float64Array(1) },
        { name: 'a', type: 'text', values: ['x'] },
      ]),
    ).toThrow('duplicate column name "a"');
    expect(() => createTable([{ name: '', type: 'text', values: [] }])).toThrow('a column has an empty name');
  });

  it('picks columns in the order asked and drops others', () => {
    expect(columnNames(pickColumns(table, ['plan', 'x']))).toEqual(['plan', 'x']);
    expect(columnNames(dropColumns(table, ['email']))).toEqual(['x', 'flag', 'plan']);
    expect(dropColumns(table, ['email']).rowCount).toBe(3);
    expect(pickColumns(table, []).rowCount).toBe(3);
  });

  it('names the columns that exist when a name is wrong', () => {
    expect(() => pickColumns(table, ['nope'])).toThrow('no column "nope" (columns: x, flag, plan, email)');
    expect(() => dropColumns(table, ['emial'])).toThrow('no column "emial"');
    expect(() => getColumn(table, 'y')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('knows missing values in every column type', () => {
    expect(table.columns.map(missingCount)).toEqual([1, 1, 1, 1]);
    expect(isMissingAt(getColumn(table, 'x'), 1)).toBe(true);
    expect(isMissingAt(getColumn(table, 'flag'), 1)).toBe(false);
    expect(table.columns.map((column) => displayValue(column, 0))).toEqual([
      '1',
      'true',
      'a',
      'u1@example.com',
    ]);
    expect(displayValue(getColumn(table, 'flag'), 1)).toBe('false');
    expect(displayValue(getColumn(table, 'plan'), 1)).toBeNull();
  });
});
