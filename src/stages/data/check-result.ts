import { type Column, displayValue } from './table.ts';

/**
 * One check's verdict. `observed` and `expected` are short values for tables and machine
 * consumers; `message` is the full sentence for people, naming the column and the value
 * seen, e.g. `max_missing: column "charges" is 12.0% missing (limit 5.0%)`.
 */
export type CheckResult = {
  check: string;
  column?: string;
  passed: boolean;
  observed: string;
  expected: string;
  message: string;
};

export type ChecksOutcome = { passed: boolean; results: CheckResult[] };

export function checkResult(
  check: string,
  column: string | undefined,
  passed: boolean,
  observed: string,
  expected: string,
  sentence: string,
): CheckResult {
  const message = `${check}: ${sentence}`;
  return column === undefined
    ? { check, passed, observed, expected, message }
    : { check, column, passed, observed, expected, message };
}

/** A share as a percentage with one decimal: 0.12 → "12.0%". */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** A cell for a message: numbers and booleans bare, strings quoted, missing as null. */
export function shownValue(column: Column, row: number): string {
  const value = displayValue(column, row);
  if (value === null) return 'null';
  return column.type === 'categorical' || column.type === 'text' ? JSON.stringify(value) : value;
}

/** `"a", "b", "c"` then "and 4 more" past `limit`, so a message stays one readable line. */
export function listed(items: readonly string[], limit = 5): string {
  const shown = items.slice(0, limit).join(', ');
  return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}
