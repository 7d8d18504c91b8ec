import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { type Column, createTable, type Table } from './table.ts';

/** Column data as JSON: numbers with null for missing (JSON has no NaN). */
const StoredColumn = z.discriminatedUnion('type', [
  z.object({
    name: z.string(),
    type: z.enum(['numeric', 'boolean']),
    values: z.array(z.number().nullable()),
  }),
  z.object({
    name: z.string(),
    type: z.enum(['categorical', 'text']),
    values: z.array(z.string().nullable()),
  }),
]);
const StoredTable = z.object({ rowCount: z.number().int().min(0), columns: z.array(StoredColumn) });

/** Gzipped JSON of a table, as stored in `datasets.content`. */
export function packTable(table: Table): Buffer {
  const columns = table.columns.map((c) =>
    c.type === 'numeric' || c.type === 'boolean'
      ? { name: c.name, type: c.type, values: Array.from(c.values, (v) => (Number.isNaN(v) ? null : v)) }
      : c,
  );
  return gzipSync(JSON.stringify({ rowCount: table.rowCount, columns }));
}

export function unpackTable(content: Uint8Array): Table {
  const parsed = StoredTable.safeParse(JSON.parse(gunzipSync(content).toString('utf8')));
  if (!parsed.success)
    throw new StewardError('BAD_REQUEST', 'a stored dataset is corrupt and cannot be read');
  const columns = parsed.data.columns.map((c): Column => {
    if (c.type === 'numeric' || c.type === 'boolean') {
      return {
        name: c.name,
        type: c.type,
        values: Float64Array.from(c.values as (number | null)[], (v) => v ?? Number.NaN),
      };
    }
    return { name: c.name, type: c.type, values: c.values as (string | null)[] };
  });
  return createTable(columns, parsed.data.rowCount);
}

/** Gzipped JSON of anything (model artifacts). */
export const packJson = (value: unknown): Buffer => gzipSync(JSON.stringify(value));
export const unpackJson = (content: Uint8Array): unknown => JSON.parse(gunzipSync(content).toString('utf8'));
