import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, type Options, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { StewardError } from '../../errors.ts';
import { type CellLimits, createCollector, formatBytes, type ParsedRecord } from './csv-collect.ts';
import { confinedPath, dataRoots, isInside, outsideRoots } from './data-roots.ts';
import type { Table } from './table.ts';

/**
 * Reads CSV into a typed table (see `inferColumn` for the typing rules). A header row is
 * required; cells are trimmed; blank lines are skipped; `\r\n`, `\n` and `\r` all end a
 * record, so files from any platform (or a mix) read the same. Every error is a
 * `BAD_REQUEST` StewardError that names the input and, where there is one, the line.
 *
 * One consequence of skipping blank lines: in a one-column file, a row whose only cell is
 * empty is skipped rather than read as a missing value.
 *
 * Limits, so that a malformed or hostile file fails fast instead of filling memory and the
 * stored dataset: a record may hold at most `maxRecordBytes` (1 MiB), a cell at most
 * `maxCellBytes` (64 KiB), and no cell may contain a NUL byte (a binary file, or text that
 * PostgreSQL cannot store). Each is refused naming the input and the line.
 */
export type CsvOptions = {
  /** Columns that must be numeric: text in one is an error naming the column, row and line. */
  numeric?: readonly string[];
  /** Names the input in messages: the path for files, "CSV" for text unless given. */
  source?: string;
  /** Field separator; a comma unless given. */
  delimiter?: string;
  /** Stops reading a stream or file (the stage's cancellation signal). */
  signal?: AbortSignal;
  /**
   * The most one record (a row, all its cells and separators) may hold, in bytes. A longer
   * one is refused; it is usually a quote that is never closed, or not a CSV at all.
   * @default MAX_RECORD_BYTES (1 MiB)
   */
  maxRecordBytes?: number;
  /**
   * The most one cell may hold, in UTF-8 bytes. Plenty for ids, categories, numbers and
   * short free text; a longer cell is refused rather than stored in the dataset.
   * @default MAX_CELL_BYTES (64 KiB)
   */
  maxCellBytes?: number;
};

/** The default record limit: 1 MiB holds ~10,000 columns of 100 characters each. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** The default cell limit: 64 KiB, about 10,000 words of text. */
export const MAX_CELL_BYTES = 64 * 1024;

/** Options of `readCsvFile`: `roots` are the directories the file must lie in. */
export type CsvFileOptions = CsvOptions & {
  /** @default dataRoots(process.env): STEWARD_DATA_ROOTS, or the parent of the pipelines dir */
  roots?: readonly string[];
};

function limitsOf(options: CsvOptions): CellLimits {
  return { maxCellBytes: options.maxCellBytes ?? MAX_CELL_BYTES };
}

function parserOptions(options: CsvOptions): Options {
  return {
    bom: true,
    trim: true,
    info: true,
    // The collector checks field counts itself, to word the error and give the right line.
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    delimiter: options.delimiter ?? ',',
    max_record_size: options.maxRecordBytes ?? MAX_RECORD_BYTES,
  };
}

/** Parses CSV text held in memory. */
export function parseCsv(text: string, options: CsvOptions = {}): Table {
  const source = options.source ?? 'CSV';
  const collector = createCollector(source, options.numeric, limitsOf(options));
  let records: unknown[];
  try {
    records = parseSync(text, parserOptions(options));
  } catch (error) {
    throw wrapParseError(error, source, options);
  }
  // With `info: true` csv-parse yields { record, info } objects, which its types do not model.
  for (const record of records) collector.push(record as ParsedRecord);
  return collector.finish();
}

/** Parses CSV from a byte or text stream without holding the raw text in memory. */
export async function readCsv(input: Readable, options: CsvOptions = {}): Promise<Table> {
  const source = options.source ?? 'CSV';
  const collector = createCollector(source, options.numeric, limitsOf(options));
  // When the consumer throws, file streams can reject the pipeline with a generic
  // AbortError from their teardown instead; keep the real reason to report it.
  let rejected: unknown;
  try {
    await pipeline(
      input,
      parse(parserOptions(options)),
      async (records: AsyncIterable<unknown>) => {
        try {
          for await (const record of records) collector.push(record as ParsedRecord);
        } catch (error) {
          rejected = error;
          throw error;
        }
      },
      { signal: options.signal },
    );
  } catch (error) {
    throw wrapParseError(rejected ?? error, source, options);
  }
  return collector.finish();
}

/**
 * Reads a CSV file by streaming it. The file must lie inside one of `roots` once symlinks
 * are resolved: one outside is refused before it is opened. A missing or unreadable file is
 * an error naming the path.
 */
export async function readCsvFile(file: string, options: CsvFileOptions = {}): Promise<Table> {
  const roots = options.roots ?? dataRoots(process.env);
  let handle: Awaited<ReturnType<typeof fs.open>>;
  try {
    handle = await openConfined(file, roots);
  } catch (error) {
    throw fileError(error, file);
  }
  try {
    const stream = handle.createReadStream({ autoClose: false });
    return await readCsv(stream, { ...options, source: options.source ?? file });
  } catch (error) {
    throw fileError(error, file);
  } finally {
    await handle.close();
  }
}

/**
 * Opens the real path after checking it, without following a symlink swapped in meanwhile
 * (O_NOFOLLOW) or waiting on a FIFO (O_NONBLOCK); only a regular file is read. Where the
 * system says which file a descriptor is (Linux), the opened file is checked once more, so
 * a directory swapped for a link between the check and the open is refused too.
 */
async function openConfined(file: string, roots: readonly string[]) {
  const real = await confinedPath(file, roots);
  const flags = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);
  const handle = await fs.open(real, flags);
  try {
    const opened = await fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && path.isAbsolute(opened)) {
      const realRoots = await Promise.all(roots.map((root) => fs.realpath(root).catch(() => '')));
      if (!realRoots.some((root) => root !== '' && isInside(opened, root))) {
        throw outsideRoots(file, opened, roots);
      }
    }
    const stat = await handle.stat();
    if (stat.isDirectory()) throw Object.assign(new Error(`${file} is a directory`), { code: 'EISDIR' });
    if (!stat.isFile()) {
      throw new StewardError('BAD_REQUEST', `${file} is not a regular file; a CSV source must be one`);
    }
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function wrapParseError(error: unknown, source: string, options: CsvOptions): unknown {
  if (error instanceof CsvError && error.code === 'CSV_MAX_RECORD_SIZE') {
    const limit = options.maxRecordBytes ?? MAX_RECORD_BYTES;
    const line = (error as CsvError & { lines?: number }).lines;
    return new StewardError(
      'BAD_REQUEST',
      `${source}${line ? ` line ${line}` : ''}: a record is longer than ${formatBytes(limit)}, the most one CSV ` +
        'record may hold; check for a quote that is never closed, or whether the file is a CSV at all',
      { cause: error },
    );
  }
  if (error instanceof CsvError) {
    return new StewardError('BAD_REQUEST', `${source}: ${error.message}`, { cause: error });
  }
  // StewardErrors from the collector, aborts and I/O errors pass through unchanged.
  return error;
}

function fileError(error: unknown, file: string): unknown {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  switch (code) {
    case 'ENOENT':
      return new StewardError('BAD_REQUEST', `CSV file not found: ${file}`, { cause: error });
    case 'EISDIR':
      return new StewardError('BAD_REQUEST', `${file} is a directory, not a CSV file`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new StewardError('BAD_REQUEST', `CSV file ${file} cannot be read: permission denied`, {
        cause: error,
      });
    default:
      return error;
  }
}
