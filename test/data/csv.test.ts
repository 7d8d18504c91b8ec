import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCsv, readCsv, readCsvFile } from '../../src/stages/data/csv.ts';
import { contentHash } from '../../src/stages/data/hash.ts';
import { categoricalLimit } from '../../src/stages/data/infer.ts';
import { columnNames, getColumn, type Table } from '../../src/stages/data/table.ts';

const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);

const values = (table: Table, name: string): unknown[] => {
  const column = getColumn(table, name);
  return column.type === 'numeric' || column.type === 'boolean'
    ? Array.from(column.values)
    : [...column.values];
};
const types = (table: Table) => Object.fromEntries(table.columns.map((column) => [column.name, column.type]));

/** A CSV with `rows` data rows in one column, the cell for row i (from 1) given by `cell`. */
const oneColumn = (name: string, rows: number, cell: (i: number) => string) =>
  [name, ...Array.from({ length: rows }, (_, i) => cell(i + 1))].join('\n');

describe('parseCsv', () => {
  it('reads quoted fields with commas, escaped quotes and newlines, and trims cells', () => {
    const table = parseCsv('name , city\n"Smith, J" ,  "Paris"\n"say ""hi""","a\nb"\n');
    expect(columnNames(table)).toEqual(['name', 'city']);
    expect(values(table, 'name')).toEqual(['Smith, J', 'say "hi"']);
    expect(values(table, 'city')).toEqual(['Paris', 'a\nb']);
  });

  it('reads CRLF, CR and mixed line endings, a BOM and blank lines', () => {
    const lf = parseCsv('a,b\n1,x\n2,y\n');
    for (const text of ['a,b\r\n1,x\r\n2,y\r\n', 'a,b\r1,x\r2,y', '\ufeffa,b\r\n1,x\n\n2,y\r\n\r\n']) {
      const table = parseCsv(text);
      expect(table).toEqual(lf);
    }
  });

  it('infers numeric, boolean, categorical and text columns', () => {
    const rows = Array.from(
      { length: 30 },
      (_, i) => `${i},${i % 2},${i % 3 ? 'yes' : 'No'},${['a', 'b'][i % 2]},id-${i}`,
    );
    const table = parseCsv(['n,bit,flag,cat,id', ...rows].join('\n'));
    expect(types(table)).toEqual({
      n: 'numeric',
      bit: 'numeric',
      flag: 'boolean',
      cat: 'categorical',
      id: 'text',
    });
    expect(values(table, 'flag').slice(0, 4)).toEqual([0, 1, 1, 0]);
    expect(values(table, 'bit').slice(0, 3)).toEqual([0, 1, 0]);
  });

  it('treats empty, NA, NaN, null and ? as missing, in any letter case', () => {
    const table = parseCsv('x,y,z\n1,a,true\n,NA,\nna,nan,NULL\n?,?,false\n2.5,b,\nNaN,null,?\n');
    expect(types(table)).toEqual({ x: 'numeric', y: 'categorical', z: 'boolean' });
    expect(values(table, 'x')).toEqual([1, Number.NaN, Number.NaN, Number.NaN, 2.5, Number.NaN]);
    expect(values(table, 'y')).toEqual(['a', null, null, null, 'b', null]);
    expect(values(table, 'z')).toEqual([1, Number.NaN, Number.NaN, 0, Number.NaN, Number.NaN]);
  });

  it('reads plain and scientific numbers only', () => {
    const numeric = parseCsv('x\n1e3\n-2.5\n+.5\n7.\n');
    expect(values(numeric, 'x')).toEqual([1000, -2.5, 0.5, 7]);
    for (const odd of ['0x10', 'Infinity', '1e999', '1,000', '12abc']) {
      expect(parseCsv(`x\n1\n"${odd}"\n`).columns[0]?.type).toBe('categorical');
    }
  });

  it('makes an all-missing column numeric (the checks stage reports it as empty)', () => {
    const table = parseCsv('a,b\n1,\n2,NA\n');
    expect(types(table)).toEqual({ a: 'numeric', b: 'numeric' });
    expect(values(table, 'b')).toEqual([Number.NaN, Number.NaN]);
  });

  it('draws the categorical/text line at max(20, 5% of rows) distinct values', () => {
    expect(categoricalLimit(10)).toBe(20);
    expect(categoricalLimit(1000)).toBe(50);
    expect(parseCsv(oneColumn('c', 40, (i) => `v${i % 20}`)).columns[0]?.type).toBe('categorical');
    expect(parseCsv(oneColumn('c', 40, (i) => `v${i % 21}`)).columns[0]?.type).toBe('text');
    expect(parseCsv(oneColumn('c', 1000, (i) => `v${i % 50}`)).columns[0]?.type).toBe('categorical');
    expect(parseCsv(oneColumn('c', 1000, (i) => `v${i % 51}`)).columns[0]?.type).toBe('text');
  });

  it('accepts another delimiter', () => {
    expect(values(parseCsv('a;b\n1,5;x\n', { delimiter: ';' }), 'a')).toEqual(['1,5']);
  });
});

describe('parseCsv errors', () => {
  const fails = (text: string, options = {}) =>
    expect(() => parseCsv(text, { source: 'data.csv', ...options }));

  it('rejects an empty file', () => {
    fails('').toThrow('data.csv is empty: expected a header row naming the columns, then data rows');
    fails('\n\r\n  \n').toThrow('data.csv is empty');
  });

  it('rejects a header without data', () => {
    fails('a,b\n').toThrow('data.csv has a header but no data rows');
  });

  it('rejects a file without a header row', () => {
    fails('1,2,3\n4,5,6\n').toThrow(
      'data.csv line 1: no header row: the first line (1,2,3) holds numbers, not column names',
    );
  });

  it('rejects empty and duplicate column names', () => {
    fails('a,,c\n1,2,3\n').toThrow('data.csv line 1: column 2 has an empty name');
    fails('"",b,\n1,2,3\n').toThrow('data.csv line 1: columns 1, 3 have empty names');
    fails('\n\nid,x,y,x\n1,2,3,4\n').toThrow('data.csv line 3: duplicate column name "x" (columns 2 and 4)');
  });

  it('names the line of a row with the wrong number of fields', () => {
    fails('a,b,c\n1,2,3\n4,5\n').toThrow('data.csv line 3: expected 3 fields, as in the header, but found 2');
    fails('a,b\n1,2\n3,4,5\n').toThrow('data.csv line 3: expected 2 fields, as in the header, but found 3');
    // A quoted newline and blank lines do not throw the count off.
    fails('a,b\n1,"x\ny"\n\n\n2\n').toThrow('data.csv line 6: expected 2 fields');
    fails('a,b\r\n1,2\r\n\r\n3\r\n').toThrow('data.csv line 4: expected 2 fields');
  });

  it('names the column, row and line of text in a declared numeric column', () => {
    const text = oneColumn('tenure', 20, (i) => (i === 17 ? 'abc' : i === 3 ? 'NA' : String(i)));
    fails(text, { numeric: ['tenure'] }).toThrow(
      'data.csv: column "tenure" is numeric but row 17 has "abc" (line 18)',
    );
    // Undeclared, the same column is simply categorical.
    expect(parseCsv(text).columns[0]?.type).toBe('categorical');
    expect(parseCsv('tenure\n1\nNA\n', { numeric: ['tenure'] }).columns[0]?.type).toBe('numeric');
  });

  it('rejects a declared numeric column that is not in the header', () => {
    fails('a,b\n1,2\n', { numeric: ['a', 'tenure'] }).toThrow(
      'data.csv: "tenure" declared numeric but not in the header (columns: a, b)',
    );
  });

  it('reports malformed quoting with its line', () => {
    fails('a,b\n1,"open\n2,3\n').toThrow(/^data\.csv: Quote Not Closed: .* at line 3$/);
    fails('a,b\n1,x"y"\n').toThrow(/^data\.csv: Invalid Opening Quote: .* at line 2/);
  });

  it('throws BAD_REQUEST StewardErrors', () => {
    fails('').toThrow(expect.objectContaining({ name: 'StewardError', code: 'BAD_REQUEST' }));
    fails('a,"b\n').toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});

describe('readCsvFile and readCsv', () => {
  it('streams a file into the same table as parsing its text', async () => {
    const table = await readCsvFile(fixture('customers.csv'));
    expect(types(table)).toEqual({
      customer_id: 'categorical',
      tenure: 'numeric',
      plan: 'categorical',
      active: 'boolean',
      notes: 'categorical',
      monthly: 'numeric',
    });
    expect(values(table, 'notes')).toEqual([
      'likes email, not phone',
      null,
      'said "call later"',
      null,
      'two\nlines',
    ]);
    expect(values(table, 'tenure')).toEqual([12, 3, Number.NaN, 40, 7]);
    expect(values(table, 'active')).toEqual([1, 0, 1, 0, Number.NaN]);
    const { readFile } = await import('node:fs/promises');
    expect(contentHash(parseCsv(await readFile(fixture('customers.csv'), 'utf8')))).toBe(contentHash(table));
  });

  it('reads records split across stream chunks', async () => {
    const chunks = ['na', 'me,sc', 'ore\r', '\n"Smith', ', J",1', '.5\r\nBo,2\r\n'];
    const table = await readCsv(Readable.from(chunks));
    expect(values(table, 'name')).toEqual(['Smith, J', 'Bo']);
    expect(values(table, 'score')).toEqual([1.5, 2]);
  });

  it('names the path in file errors', async () => {
    const ragged = fixture('ragged.csv');
    await expect(readCsvFile(ragged)).rejects.toThrow(
      `${ragged} line 4: expected 3 fields, as in the header, but found 2`,
    );
    await expect(readCsvFile(fixture('numeric-text.csv'), { numeric: ['tenure'] })).rejects.toThrow(
      `${fixture('numeric-text.csv')}: column "tenure" is numeric but row 2 has "abc" (line 3)`,
    );
    const missing = fixture('no-such-file.csv');
    await expect(readCsvFile(missing)).rejects.toThrow(`CSV file not found: ${missing}`);
    await expect(readCsvFile(missing)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(readCsvFile(import.meta.dirname)).rejects.toThrow('is a directory, not a CSV file');
    await expect(readCsvFile(ragged, { source: 'upload.csv' })).rejects.toThrow('upload.csv line 4');
  });

  it('reports an empty stream and malformed quoting', async () => {
    await expect(readCsv(Readable.from([]), { source: 's.csv' })).rejects.toThrow('s.csv is empty');
    await expect(readCsv(Readable.from(['a,b\n1,"x\n']))).rejects.toThrow(/^CSV: Quote Not Closed/);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(readCsv(Readable.from(['a\n1\n']), { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
