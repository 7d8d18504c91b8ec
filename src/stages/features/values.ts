import { StewardError } from '../../errors.ts';
import { isMissingCell, parseBooleanCell, parseNumberCell } from '../data/cells.ts';

/**
 * The single place a raw cell becomes a number or a category. Fitting reads training
 * tables and serving reads JSON objects; both go through these two functions, so the same
 * value can never be encoded differently at training and at serving time. Strings are read
 * with the data layer's cell rules (`data/cells.ts`): trimmed, and `''`, `NA`, `NaN`,
 * `null`, `?` mean missing, exactly as the CSV reader reads a file.
 */

/** A short, quoted rendering of a bad value for an error message. */
function shown(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value); // a BigInt or a cyclic object
  }
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/**
 * A numeric cell: finite numbers as they are; null, undefined, NaN and missing-cell strings
 * are missing (NaN); strings in plain decimal or scientific notation are parsed, because
 * JSON clients often quote numbers. With `booleans` (a boolean column, stored by the data
 * layer as 1 / 0), `true` / `false` and the text true/false/yes/no are 1 / 0 too. Anything
 * else (words, `0x1f`, ±Infinity) is an error naming the column, since silently imputing
 * it would hide a broken client.
 */
export function toNumber(value: unknown, column: string, row: number, booleans = false): number {
  if (value === null || value === undefined) return Number.NaN;
  if (typeof value === 'number') {
    if (Number.isNaN(value) || Number.isFinite(value)) return value;
  } else if (typeof value === 'boolean') {
    if (booleans) return value ? 1 : 0;
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (isMissingCell(text)) return Number.NaN;
    const flag = booleans ? parseBooleanCell(text) : undefined;
    if (flag !== undefined) return flag ? 1 : 0;
    const parsed = parseNumberCell(text);
    if (!Number.isNaN(parsed)) return parsed;
  }
  throw new StewardError(
    'BAD_REQUEST',
    booleans
      ? `column "${column}" is boolean, but row ${row} has ${shown(value)}; send true, false, 1 or 0`
      : `column "${column}" is numeric, but row ${row} has ${shown(value)}, which is not a finite number`,
  );
}

/**
 * A categorical cell: strings trimmed (missing-cell strings are missing); numbers and
 * booleans as their text, so `1` and `"1"`, `true` and `"true"` are the same category;
 * null, undefined and NaN are missing (null).
 */
export function toCategory(value: unknown, column: string, row: number): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    const text = value.trim();
    return isMissingCell(text) ? null : text;
  }
  if (typeof value === 'number') return Number.isNaN(value) ? null : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  throw new StewardError(
    'BAD_REQUEST',
    `column "${column}" is categorical, but row ${row} has ${shown(value)}; send a string, number or boolean`,
  );
}
