import { createHash } from 'node:crypto';
import type { Column, Table } from './table.ts';

/** Values serialised per `update` call, so hashing a large table needs little extra memory. */
const CHUNK = 4096;

/**
 * sha256 (hex) of a table's content: column names and types, then every value in order.
 * It hashes parsed values, not bytes, so the same data gives the same hash however the
 * CSV was written (`1.0` or `1`, quoted or not, CRLF or LF, `NA` or an empty cell) and a
 * run can tell "same data" from "new data" for caching and drift references.
 *
 * Canonical form: a JSON line `{"rows":n,"columns":[[name,type],...]}`, then one line per
 * column of comma-separated values: numbers in JavaScript's shortest round-trip form (so
 * -0 is 0), booleans as true/false, strings as JSON strings, missing as null.
 */
export function contentHash(table: Table): string {
  const hash = createHash('sha256');
  const columns = table.columns.map((column) => [column.name, column.type]);
  hash.update(`${JSON.stringify({ rows: table.rowCount, columns })}\n`);
  for (const column of table.columns) {
    for (let start = 0; start < table.rowCount; start += CHUNK) {
      const end = Math.min(start + CHUNK, table.rowCount);
      const parts: string[] = [];
      for (let i = start; i < end; i++) parts.push(canonical(column, i));
      hash.update(start === 0 ? parts.join(',') : `,${parts.join(',')}`);
    }
    hash.update('\n');
  }
  return hash.digest('hex');
}

function canonical(column: Column, row: number): string {
  switch (column.type) {
    case 'numeric': {
      const value = column.values[row] ?? Number.NaN;
      return Number.isNaN(value) ? 'null' : String(value);
    }
    case 'boolean': {
      const value = column.values[row] ?? Number.NaN;
      return Number.isNaN(value) ? 'null' : value === 1 ? 'true' : 'false';
    }
    default:
      return JSON.stringify(column.values[row] ?? null);
  }
}
