import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, type Options, parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { StewardError } from '../../errors.ts';
import { createCollector, type ParsedRecord } from './csv-collect.ts';
import type { Table } from './table.ts';

/**
 * Reads CSV into a typed table (see `inferColumn` for the typing rules). A header row is
 * required; cells are trimmed; blank lines are skipped; `\r\n`, `\n` and `\r` all end a
 * record, so files from any platform (or a mix) read the same. Every error is a
 * `BAD_REQUEST` StewardError that names the input and, where there is one, the line.
 *
 * One consequence of skipping blank lines: in a one-column file, a row whose only cell is
 * empty is skipped rather than read as a missing value.
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
};

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
  };
}

/** Parses CSV text held in memory. */
export function parseCsv(text: string, options: CsvOptions = {}): Table {
  const source = options.source ?? 'CSV';
  const collector = createCollector(source, options.numeric);
  let records: unknown[];
  try {
    records = parseSync(text, parserOptions(options));
  } catch (error) {
    throw wrapParseError(error, source);
  }
  // With `info: true` csv-parse yields { record, info } objects, which its types do not model.
  for (const record of records) collector.push(record as ParsedRecord);
  return collector.finish();
}

/** Parses CSV from a byte or text stream without holding the raw text in memory. */
export async function readCsv(input: Readable, options: CsvOptions = {}): Promise<Table> {
  const source = options.source ?? 'CSV';
  const collector = createCollector(source, options.numeric);
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
    throw wrapParseError(rejected ?? error, source);
  }
  return collector.finish();
}

/** Reads a CSV file by streaming it; a missing or unreadable file is an error naming the path. */
export async function readCsvFile(path: string, options: CsvOptions = {}): Promise<Table> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileError(error, path);
  }
  try {
    const stream = handle.createReadStream({ autoClose: false });
    return await readCsv(stream, { ...options, source: options.source ?? path });
  } catch (error) {
    throw fileError(error, path);
  } finally {
    await handle.close();
  }
}

function wrapParseError(error: unknown, source: string): unknown {
  if (error instanceof CsvError) {
    return new StewardError('BAD_REQUEST', `${source}: ${error.message}`, { cause: error });
  }
  // StewardErrors from the collector, aborts and I/O errors pass through unchanged.
  return error;
}

function fileError(error: unknown, path: string): unknown {
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  switch (code) {
    case 'ENOENT':
      return new StewardError('BAD_REQUEST', `CSV file not found: ${path}`, { cause: error });
    case 'EISDIR':
      return new StewardError('BAD_REQUEST', `${path} is a directory, not a CSV file`, { cause: error });
    case 'EACCES':
    case 'EPERM':
      return new StewardError('BAD_REQUEST', `CSV file ${path} cannot be read: permission denied`, {
        cause: error,
      });
    default:
      return error;
  }
}
