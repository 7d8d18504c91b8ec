import { isMissingCell, parseBooleanCell, parseNumberCell } from './cells.ts';
import type { Column } from './table.ts';

/**
 * The most distinct values a categorical column may have for a table of `rowCount` rows:
 * at least 20 (small files), else 5% of the rows. More distinct values than that are
 * identifiers or free text, which one-hot encoding and frequency profiles cannot use.
 */
export function categoricalLimit(rowCount: number): number {
  return Math.max(20, Math.floor(rowCount * 0.05));
}

/**
 * Turns one column of trimmed CSV cells into a typed column. The first rule that fits wins:
 *
 * 1. numeric: every non-missing cell is a finite number (so an all-missing column is
 *    numeric, all NaN; the checks stage reports it as empty);
 * 2. boolean: every non-missing cell is true/false/yes/no (0/1 stays numeric, see rule 1);
 * 3. categorical: at most `categoricalLimit(rows)` distinct non-missing values;
 * 4. text: anything else.
 */
export function inferColumn(name: string, cells: readonly string[]): Column {
  const numbers = asNumbers(cells);
  if (numbers) return { name, type: 'numeric', values: numbers };
  const booleans = asBooleans(cells);
  if (booleans) return { name, type: 'boolean', values: booleans };
  const values = cells.map((cell) => (isMissingCell(cell) ? null : cell));
  const distinct = new Set(values);
  distinct.delete(null);
  const type = distinct.size <= categoricalLimit(cells.length) ? 'categorical' : 'text';
  return { name, type, values };
}

/** The cells as numbers (NaN for missing), or undefined as soon as one is not a number. */
function asNumbers(cells: readonly string[]): Float64Array | undefined {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i] ?? '';
    if (isMissingCell(cell)) {
      out[i] = Number.NaN;
      continue;
    }
    const value = parseNumberCell(cell);
    if (Number.isNaN(value)) return undefined;
    out[i] = value;
  }
  return out;
}

function asBooleans(cells: readonly string[]): Float64Array | undefined {
  const out = new Float64Array(cells.length);
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i] ?? '';
    if (isMissingCell(cell)) {
      out[i] = Number.NaN;
      continue;
    }
    const value = parseBooleanCell(cell);
    if (value === undefined) return undefined;
    out[i] = value ? 1 : 0;
  }
  return out;
}

/** Index of the first non-missing cell that is not a number, or -1 if they all are. */
export function firstNonNumeric(cells: readonly (string | null)[]): number {
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    if (cell === null || cell === undefined || isMissingCell(cell)) continue;
    if (Number.isNaN(parseNumberCell(cell))) return i;
  }
  return -1;
}
