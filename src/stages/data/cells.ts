/**
 * How the text of one cell is read. Kept in one place so the CSV reader, type inference
 * and the checks stage agree on what "missing", "a number" and "a boolean" mean.
 */

/**
 * Cells that mean "no value": empty, `NA`, `NaN`, `null` (any letter case) and `?` (the UCI
 * convention). Cells are trimmed before this test.
 */
const MISSING = new Set(['', 'na', 'nan', 'null', '?']);

export function isMissingCell(cell: string): boolean {
  return MISSING.has(cell.toLowerCase());
}

/**
 * Plain decimal or scientific notation only. `Number()` alone would also accept `0x1f`,
 * `Infinity` and whitespace, none of which a data file means as a number.
 */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The finite number a cell holds, or NaN if it is not one (overflow such as `1e999` is not). */
export function parseNumberCell(cell: string): number {
  if (!NUMBER.test(cell)) return Number.NaN;
  const value = Number(cell);
  return Number.isFinite(value) ? value : Number.NaN;
}

/**
 * true/false and yes/no (any letter case) are booleans. 0/1 are deliberately not: a 0/1
 * column stays numeric, which is what a model and a binary target want anyway.
 */
const BOOLEANS = new Map([
  ['true', true],
  ['false', false],
  ['yes', true],
  ['no', false],
]);

/** The boolean a cell holds, or undefined if it is not one. */
export function parseBooleanCell(cell: string): boolean | undefined {
  return BOOLEANS.get(cell.toLowerCase());
}

/**
 * The one wording for "text in a numeric column", shared by the CSV reader (which adds the
 * file line) and the checks stage. `row` counts data rows from 1, header excluded.
 */
export function numericMismatchMessage(column: string, row: number, value: string): string {
  return `column "${column}" is numeric but row ${row} has ${JSON.stringify(value)}`;
}
