import { parseBooleanCell, parseNumberCell } from './cells.ts';
import { type CheckResult, checkResult, listed, percent, shownValue } from './check-result.ts';
import type { ChecksSpec } from './checks-spec.ts';
import { type Column, displayValue, findColumn, missingCount, type Table } from './table.ts';

/** The rules a spec's `checks` section declares (see `ChecksSpec`), one result per rule and column. */

function notFound(check: string, name: string, expected: string): CheckResult {
  return checkResult(check, name, false, 'absent', expected, `column "${name}" not found`);
}

export function minRowsCheck(table: Table, minRows: number): CheckResult {
  const observed = `${table.rowCount} rows`;
  const passed = table.rowCount >= minRows;
  const sentence = passed
    ? `${observed} (minimum ${minRows})`
    : `the data has ${observed} (minimum ${minRows})`;
  return checkResult('min_rows', undefined, passed, observed, `at least ${minRows} rows`, sentence);
}

export function maxMissingChecks(
  table: Table,
  limits: NonNullable<ChecksSpec['max_missing']>,
): CheckResult[] {
  const perColumn = typeof limits === 'number' ? {} : limits;
  const fallback = typeof limits === 'number' ? limits : limits['*'];
  const results: CheckResult[] = [];
  for (const name of Object.keys(perColumn)) {
    if (name !== '*' && !findColumn(table, name)) results.push(notFound('max_missing', name, 'present'));
  }
  for (const column of table.columns) {
    // Own keys only: a column named like an Object method must not pick up a function.
    const limit = Object.hasOwn(perColumn, column.name) ? perColumn[column.name] : fallback;
    if (limit === undefined) continue;
    const share = table.rowCount === 0 ? 0 : missingCount(column) / table.rowCount;
    results.push(
      checkResult(
        'max_missing',
        column.name,
        share <= limit,
        `${percent(share)} missing`,
        `at most ${percent(limit)} missing`,
        `column "${column.name}" is ${percent(share)} missing (limit ${percent(limit)})`,
      ),
    );
  }
  return results;
}

export function rangeChecks(table: Table, ranges: ChecksSpec['ranges']): CheckResult[] {
  return Object.entries(ranges).map(([name, { min, max }]) => {
    const expected =
      min !== undefined && max !== undefined
        ? `between ${min} and ${max}`
        : min !== undefined
          ? `at least ${min}`
          : `at most ${max}`;
    const column = findColumn(table, name);
    if (!column) return notFound('ranges', name, expected);
    if (column.type !== 'numeric') {
      return checkResult(
        'ranges',
        name,
        false,
        column.type,
        expected,
        `column "${name}" is ${column.type}; ranges need a numeric column`,
      );
    }
    let outside = 0;
    let first = -1;
    let lowest = Number.POSITIVE_INFINITY;
    let highest = Number.NEGATIVE_INFINITY;
    column.values.forEach((value, row) => {
      if (Number.isNaN(value)) return;
      lowest = Math.min(lowest, value);
      highest = Math.max(highest, value);
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        outside++;
        if (first < 0) first = row;
      }
    });
    const observed = outside === 0 && lowest > highest ? 'no values' : `from ${lowest} to ${highest}`;
    if (outside === 0)
      return checkResult('ranges', name, true, observed, expected, `column "${name}" is ${expected}`);
    const sentence =
      `column "${name}" should be ${expected} but ${outside} ${outside === 1 ? 'value is' : 'values are'} not ` +
      `(row ${first + 1} has ${shownValue(column, first)})`;
    return checkResult('ranges', name, false, observed, expected, sentence);
  });
}

export function allowedChecks(table: Table, allowed: ChecksSpec['allowed']): CheckResult[] {
  return Object.entries(allowed).map(([name, values]) => {
    const column = findColumn(table, name);
    const expected = `one of ${values.map(String).join(', ')}`;
    if (!column) return notFound('allowed', name, expected);
    const permitted = new Set(values.map((value) => asCell(column, value)));
    /** Unexpected values in first-seen order, with their count and first row. */
    const unexpected = new Map<string, { count: number; row: number }>();
    for (let row = 0; row < table.rowCount; row++) {
      const value = displayValue(column, row);
      if (value === null || permitted.has(value)) continue;
      const seen = unexpected.get(value);
      if (seen) seen.count++;
      else unexpected.set(value, { count: 1, row });
    }
    if (unexpected.size === 0) {
      return checkResult(
        'allowed',
        name,
        true,
        'only allowed values',
        expected,
        `column "${name}" holds only ${expected}`,
      );
    }
    const shown = [...unexpected.values()].map(
      ({ count, row }) =>
        `${shownValue(column, row)} (${count} ${count === 1 ? 'row' : 'rows'}, first row ${row + 1})`,
    );
    const observed = listed([...unexpected.values()].map(({ row }) => shownValue(column, row)));
    const sentence = `column "${name}" has values not in [${values.map(String).join(', ')}]: ${listed(shown)}`;
    return checkResult('allowed', name, false, observed, expected, sentence);
  });
}

/**
 * An allowed value from YAML as the column would display it, so `[0, 1]`, `["0", "1"]`
 * and `[true, false]` all mean what they say whatever the column's type (in a boolean
 * column, 1/0 and yes/no mean true/false too).
 */
function asCell(column: Column, value: string | number | boolean): string {
  if (column.type === 'numeric') {
    const number = typeof value === 'string' ? parseNumberCell(value) : Number(value);
    return Number.isNaN(number) ? String(value) : String(number);
  }
  if (column.type === 'boolean') return String(asFlag(value) ?? value);
  return String(value);
}

function asFlag(value: string | number | boolean): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return parseBooleanCell(value);
  if (value === 1) return true;
  if (value === 0) return false;
  return undefined;
}
