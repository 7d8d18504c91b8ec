import { StewardError } from '../../errors.ts';
import { numericMismatchMessage, parseNumberCell } from './cells.ts';
import { firstNonNumeric, inferColumn } from './infer.ts';
import { createTable, type Table } from './table.ts';

/** One record as csv-parse yields it with `info: true`. */
export type ParsedRecord = { record: string[]; info: { lines: number; empty_lines: number } };

/** Checks on every cell, for sources read from files (CSV); see `CsvOptions`. */
export type CellLimits = { maxCellBytes: number };

export type Collector = {
  push(parsed: ParsedRecord): void;
  finish(): Table;
};

/**
 * Gathers parsed CSV records into columns and turns them into a typed table. Shared by the
 * in-memory and the streaming reader so both give the same table and the same errors.
 * Structural problems are thrown as soon as the offending record arrives, so a bad file
 * fails fast; `source` names the input in every message. With `limits`, a cell holding a
 * NUL byte or more than `maxCellBytes` is refused too.
 */
export function createCollector(
  source: string,
  numeric: readonly string[] = [],
  limits?: CellLimits,
): Collector {
  let header: string[] | undefined;
  let columns: string[][] = [];
  /** File line on which each data row starts, for messages. */
  const lines: number[] = [];
  let lastLine = 0;
  let lastEmpty = 0;

  return {
    push({ record, info }) {
      // csv-parse reports the line a record ends on and a running count of skipped blank
      // lines; the record starts on the line after the previous one, past those blanks.
      const line = lastLine + 1 + (info.empty_lines - lastEmpty);
      lastLine = info.lines;
      lastEmpty = info.empty_lines;
      if (limits) checkCells(source, record, line, header, limits);
      if (!header) {
        header = checkHeader(source, record, line, numeric);
        columns = header.map(() => []);
        return;
      }
      if (record.length !== header.length) {
        throw new StewardError(
          'BAD_REQUEST',
          `${source} line ${line}: expected ${header.length} fields, as in the header, but found ${record.length}`,
        );
      }
      for (let j = 0; j < record.length; j++) columns[j]?.push(record[j] ?? '');
      lines.push(line);
    },

    finish() {
      if (!header) {
        throw new StewardError(
          'BAD_REQUEST',
          `${source} is empty: expected a header row naming the columns, then data rows`,
        );
      }
      if (lines.length === 0)
        throw new StewardError('BAD_REQUEST', `${source} has a header but no data rows`);
      const names = header;
      for (const name of numeric) {
        const cells = columns[names.indexOf(name)] ?? [];
        const row = firstNonNumeric(cells);
        if (row >= 0) {
          const message = numericMismatchMessage(name, row + 1, cells[row] ?? '');
          throw new StewardError('BAD_REQUEST', `${source}: ${message} (line ${lines[row]})`);
        }
      }
      return createTable(
        names.map((name, j) => inferColumn(name, columns[j] ?? [])),
        lines.length,
      );
    },
  };
}

/**
 * Refuses a NUL byte in any cell (binary data, which PostgreSQL cannot store as text) and a
 * cell longer than the limit, naming the line (the record's, plus the line breaks inside it
 * before the cell) and the column.
 */
function checkCells(
  source: string,
  record: string[],
  line: number,
  header: string[] | undefined,
  { maxCellBytes }: CellLimits,
): void {
  for (let j = 0; j < record.length; j++) {
    const cell = record[j] ?? '';
    const nul = cell.indexOf('\0');
    // UTF-8 takes at least one byte per UTF-16 unit and at most three: count only when it matters.
    const tooLong = cell.length * 3 > maxCellBytes && Buffer.byteLength(cell) > maxCellBytes;
    if (nul < 0 && !tooLong) continue;
    const earlier = record.slice(0, j).reduce((sum, c) => sum + lineBreaks(c), 0);
    const at = `${source} line ${line + earlier + (nul < 0 ? 0 : lineBreaks(cell.slice(0, nul)))}`;
    const where = header ? `a cell (column "${header[j] ?? j + 1}")` : `the header (column ${j + 1})`;
    if (nul >= 0) {
      throw new StewardError(
        'BAD_REQUEST',
        `${at}: ${where} contains a NUL byte (\\0); CSV sources must be text`,
      );
    }
    throw new StewardError(
      'BAD_REQUEST',
      `${at}: ${where} holds ${Buffer.byteLength(cell)} bytes, more than the ${formatBytes(maxCellBytes)} ` +
        'one CSV cell may hold',
    );
  }
}

/** Line breaks in `text`: `\r\n`, `\n` and `\r` each count once, as the reader counts lines. */
function lineBreaks(text: string): number {
  return (text.match(/\r\n|\n|\r/g) ?? []).length;
}

/** 1 MiB, 64 KiB, 300 bytes: a limit as messages give it. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** The header's names, or an error saying what is wrong with the first line. */
function checkHeader(source: string, names: string[], line: number, numeric: readonly string[]): string[] {
  const at = `${source} line ${line}`;
  if (names.every((name) => !Number.isNaN(parseNumberCell(name)))) {
    throw new StewardError(
      'BAD_REQUEST',
      `${at}: no header row: the first line (${names.join(',')}) holds numbers, not column names. ` +
        'Add a first line naming the columns.',
    );
  }
  const unnamed = names.flatMap((name, j) => (name === '' ? [j + 1] : []));
  if (unnamed.length === 1) {
    throw new StewardError('BAD_REQUEST', `${at}: column ${unnamed[0]} has an empty name`);
  }
  if (unnamed.length > 1) {
    throw new StewardError('BAD_REQUEST', `${at}: columns ${unnamed.join(', ')} have empty names`);
  }
  const first = new Map<string, number>();
  for (const [j, name] of names.entries()) {
    const earlier = first.get(name);
    if (earlier !== undefined) {
      throw new StewardError(
        'BAD_REQUEST',
        `${at}: duplicate column name "${name}" (columns ${earlier + 1} and ${j + 1})`,
      );
    }
    first.set(name, j);
  }
  const unknown = numeric.filter((name) => !first.has(name));
  if (unknown.length > 0) {
    throw new StewardError(
      'BAD_REQUEST',
      `${source}: ${unknown.map((name) => `"${name}"`).join(', ')} declared numeric but not in the header ` +
        `(columns: ${names.join(', ')})`,
    );
  }
  return names;
}
