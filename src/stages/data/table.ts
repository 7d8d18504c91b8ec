import { StewardError } from '../../errors.ts';

/**
 * The in-memory table every data stage passes around. It is columnar because every
 * consumer (profiles, checks, feature building, training) works a column at a time, and
 * numeric columns as `Float64Array` go straight into the numeric core without copying.
 *
 * Missing values: `NaN` in numeric and boolean columns, `null` in string columns. Booleans
 * are stored as 1 / 0 so a model can use them as they are.
 *
 * Tables are treated as immutable values: helpers return new tables that share column
 * arrays with their input, so never write into a column you did not create.
 */
export type ColumnType = 'numeric' | 'categorical' | 'boolean' | 'text';

export type NumericColumn = { name: string; type: 'numeric'; values: Float64Array };
/** 1 for true, 0 for false, NaN for missing. */
export type BooleanColumn = { name: string; type: 'boolean'; values: Float64Array };
export type CategoricalColumn = { name: string; type: 'categorical'; values: (string | null)[] };
/** Free text or identifiers: too many distinct values to treat as categories. */
export type TextColumn = { name: string; type: 'text'; values: (string | null)[] };

export type Column = NumericColumn | BooleanColumn | CategoricalColumn | TextColumn;

export type Table = { columns: Column[]; rowCount: number };

/**
 * Builds a table and checks the invariants the rest of the data layer relies on: unique,
 * non-empty names and one value per row in every column. `rowCount` is only needed for a
 * table without columns.
 */
export function createTable(columns: Column[], rowCount = columns[0]?.values.length ?? 0): Table {
  const seen = new Set<string>();
  for (const column of columns) {
    if (column.name === '') throw new StewardError('BAD_REQUEST', 'a column has an empty name');
    if (seen.has(column.name)) {
      throw new StewardError('BAD_REQUEST', `duplicate column name "${column.name}"`);
    }
    seen.add(column.name);
    if (column.values.length !== rowCount) {
      throw new StewardError(
        'BAD_REQUEST',
        `column "${column.name}" has ${column.values.length} values but the table has ${rowCount} rows`,
      );
    }
  }
  return { columns, rowCount };
}

export function columnNames(table: Table): string[] {
  return table.columns.map((column) => column.name);
}

export function findColumn(table: Table, name: string): Column | undefined {
  return table.columns.find((column) => column.name === name);
}

/** Like `findColumn`, but a wrong name is an error that lists the names that exist. */
export function getColumn(table: Table, name: string): Column {
  const column = findColumn(table, name);
  if (!column) {
    throw new StewardError('BAD_REQUEST', `no column "${name}" (columns: ${columnNames(table).join(', ')})`);
  }
  return column;
}

/** The named columns, in the order given. Unknown names are an error, so typos surface. */
export function pickColumns(table: Table, names: readonly string[]): Table {
  return createTable(
    names.map((name) => getColumn(table, name)),
    table.rowCount,
  );
}

/** Every column except the named ones (for example PII before training). Unknown names are an error. */
export function dropColumns(table: Table, names: readonly string[]): Table {
  for (const name of names) getColumn(table, name);
  const dropped = new Set(names);
  return createTable(
    table.columns.filter((column) => !dropped.has(column.name)),
    table.rowCount,
  );
}

export function isMissingAt(column: Column, row: number): boolean {
  if (column.type === 'numeric' || column.type === 'boolean') return Number.isNaN(column.values[row]);
  return column.values[row] === null;
}

export function missingCount(column: Column): number {
  let count = 0;
  for (let i = 0; i < column.values.length; i++) if (isMissingAt(column, i)) count++;
  return count;
}

/**
 * A cell as text for people (reports, check messages): numbers in JavaScript's shortest
 * round-trip form, booleans as true/false, missing as null.
 */
export function displayValue(column: Column, row: number): string | null {
  if (isMissingAt(column, row)) return null;
  switch (column.type) {
    case 'numeric':
      return String(column.values[row]);
    case 'boolean':
      return column.values[row] === 1 ? 'true' : 'false';
    default:
      return column.values[row] ?? null;
  }
}
