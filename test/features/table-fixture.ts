import type { Column, ColumnType, Table } from '../../src/stages/data/table.ts';

/**
 * Builds a table the way the data layer stores one: numeric columns as Float64Array (null
 * → NaN), boolean columns as 1 / 0 / NaN, the others as strings with null for missing. The
 * type is given per column, or inferred: any number → numeric, otherwise categorical.
 */
export function table(
  columns: Record<string, readonly (string | number | boolean | null)[]>,
  types: Record<string, ColumnType> = {},
): Table {
  const entries = Object.entries(columns);
  const rowCount = entries[0]?.[1].length ?? 0;
  return {
    rowCount,
    columns: entries.map(([name, values]): Column => {
      const type = types[name] ?? (values.some((v) => typeof v === 'number') ? 'numeric' : 'categorical');
      if (type === 'numeric') {
        return {
          name,
          type,
          values: Float64Array.from(values, (v) => (v === null ? Number.NaN : Number(v))),
        };
      }
      if (type === 'boolean') {
        return {
          name,
          type,
          values: Float64Array.from(values, (v) =>
            v === null ? Number.NaN : v === true || v === 'true' ? 1 : 0,
          ),
        };
      }
      return { name, type, values: values.map((v) => (v === null ? null : String(v))) };
    }),
  };
}
