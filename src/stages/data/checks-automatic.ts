import { numericMismatchMessage } from './cells.ts';
import { type CheckResult, checkResult, listed, shownValue } from './check-result.ts';
import { firstNonNumeric } from './infer.ts';
import { type Column, columnNames, displayValue, findColumn, missingCount, type Table } from './table.ts';

/**
 * Checks that run whatever the spec declares: without them training would fail later
 * with a far less helpful message (no target, one class, a constant target, an empty
 * column, text where numbers were promised).
 */

export type Task = 'classification' | 'regression';

/** The target column exists and, for a known task, can be learned. */
export function targetChecks(table: Table, target: string, task: Task | undefined): CheckResult[] {
  const column = findColumn(table, target);
  if (!column) {
    return [
      checkResult(
        'target',
        target,
        false,
        'absent',
        'present',
        `column "${target}" not found (columns: ${columnNames(table).join(', ')})`,
      ),
    ];
  }
  const present = checkResult('target', target, true, 'present', 'present', `column "${target}" is present`);
  if (task === 'classification') return [present, classesCheck(column)];
  if (task === 'regression') return [present, varianceCheck(column)];
  return [present];
}

function classesCheck(column: Column): CheckResult {
  const classes = new Map<string, string>();
  for (let i = 0; i < column.values.length; i++) {
    const value = displayValue(column, i);
    if (value !== null && !classes.has(value)) classes.set(value, shownValue(column, i));
  }
  const count = classes.size;
  const observed = `${count} ${count === 1 ? 'class' : 'classes'}`;
  const passed = count >= 2;
  const sentence = passed
    ? `column "${column.name}" has ${observed}`
    : `column "${column.name}" has ${observed}${count ? ` (${listed([...classes.values()])})` : ''}; ` +
      'classification needs at least 2';
  return checkResult('target_classes', column.name, passed, observed, 'at least 2 classes', sentence);
}

function varianceCheck(column: Column): CheckResult {
  const expected = 'numeric with non-zero variance';
  if (column.type !== 'numeric') {
    return checkResult(
      'target_variance',
      column.name,
      false,
      column.type,
      expected,
      `column "${column.name}" is ${column.type}; regression needs a numeric target`,
    );
  }
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const value of column.values) {
    if (Number.isNaN(value)) continue;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  if (min < max) {
    const observed = `from ${min} to ${max}`;
    return checkResult(
      'target_variance',
      column.name,
      true,
      observed,
      expected,
      `column "${column.name}" varies ${observed}`,
    );
  }
  const observed = min === max ? `every value is ${min}` : 'no values';
  return checkResult(
    'target_variance',
    column.name,
    false,
    observed,
    expected,
    `column "${column.name}" has no variance (${observed})`,
  );
}

/** Every column has at least one value: an all-missing column is a broken export or join. */
export function notEmptyChecks(table: Table): CheckResult[] {
  return table.columns.map((column) => {
    const missing = missingCount(column);
    const passed = missing < table.rowCount;
    const observed = `${table.rowCount - missing} of ${table.rowCount} rows have a value`;
    const sentence = passed
      ? `column "${column.name}" has values`
      : `column "${column.name}" is entirely empty (no value in ${table.rowCount} ${table.rowCount === 1 ? 'row' : 'rows'})`;
    return checkResult('not_empty', column.name, passed, observed, 'at least one value', sentence);
  });
}

/** Columns declared numeric hold numbers; the first piece of text is reported with its row. */
export function numericChecks(table: Table, names: readonly string[]): CheckResult[] {
  return names.map((name) => {
    const column = findColumn(table, name);
    if (!column) {
      return checkResult(
        'numeric',
        name,
        false,
        'absent',
        'numbers',
        `column "${name}" is declared numeric but not found`,
      );
    }
    if (column.type === 'numeric') {
      return checkResult('numeric', name, true, 'numbers', 'numbers', `column "${name}" holds numbers`);
    }
    const texts = Array.from({ length: table.rowCount }, (_, i) => displayValue(column, i));
    const row = firstNonNumeric(texts);
    if (row < 0)
      return checkResult('numeric', name, true, 'numbers', 'numbers', `column "${name}" holds numbers`);
    const value = texts[row] ?? '';
    return checkResult(
      'numeric',
      name,
      false,
      JSON.stringify(value),
      'numbers',
      numericMismatchMessage(name, row + 1, value),
    );
  });
}
