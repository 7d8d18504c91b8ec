/**
 * Reads a pipeline's SQL source. The query is written by whoever writes the spec, so it runs
 * confined:
 *
 * - in a READ ONLY transaction, with `statement_timeout` set from `source.timeout`;
 * - through the extended query protocol, so PostgreSQL itself refuses a second statement;
 * - without `source.url` (on Steward's own database) as the role `steward_reader`, which
 *   `steward migrate` creates without rights on Steward's tables, and inside the function
 *   `steward_sql.read_rows`, a SECURITY DEFINER function owned by that role, where PostgreSQL
 *   refuses `set_config('role', …)` (with SET ROLE alone the query could switch back);
 * - with `source.url` as that URL's user: the URL's credentials are the limit;
 * - cancelled on the server when the stage's signal aborts.
 */
import pg from 'pg';
import { StageFailure } from '../stage.ts';
import { createCollector } from './csv-collect.ts';
import { SqlCancelledError, type SqlPhase, sqlFailure } from './sql-errors.ts';
import type { Table } from './table.ts';

export type SqlSourceOptions = {
  /** One SQL statement that returns rows. */
  query: string;
  /** `source.url`: the query runs as this URL's user, without SET ROLE. */
  url?: string | undefined;
  /** Steward's own database (DATABASE_URL), used when `url` is not given, as steward_reader. */
  stewardUrl?: string | undefined;
  /** `source.timeout` in milliseconds; PostgreSQL stops the query after it. */
  timeoutMs: number;
  /** Names the pipeline in every message. */
  pipeline: string;
  /** Aborting cancels the query on the server (pg_cancel_backend) and closes the connection. */
  signal?: AbortSignal | undefined;
};

/** After an abort, how long the server's cancel may take before the connection is cut. */
const CANCEL_GRACE_MS = 3_000;

/** Reads the query's rows into a table with the same typing rules as a CSV file. */
export async function readSqlSource(options: SqlSourceOptions): Promise<Table> {
  const { pipeline, signal, timeoutMs } = options;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    throw new RangeError('timeoutMs must be a positive integer');
  const confined = options.url === undefined;
  const url = options.url ?? options.stewardUrl;
  if (!url) {
    throw new StageFailure(
      `${pipeline}: a sql source needs source.url: Steward runs on its embedded database, which sql ` +
        'sources cannot reach. Give the source a source.url, or run Steward on PostgreSQL (DATABASE_URL).',
    );
  }
  if (signal?.aborted) throw new SqlCancelledError(pipeline, signal.reason);

  const client = new pg.Client({
    connectionString: url,
    application_name: 'steward sql source',
    connectionTimeoutMillis: 10_000,
    // Only if the server never answers: PostgreSQL's statement_timeout stops the query first.
    query_timeout: timeoutMs + 5_000,
  });
  // A connection lost mid-query rejects that query; this only keeps the event from crashing.
  client.on('error', () => {});
  const cancel = cancelOnAbort(client, url, signal);
  let phase: SqlPhase = 'connect';
  const step = (next: SqlPhase) => {
    if (signal?.aborted) throw new SqlCancelledError(pipeline, signal.reason);
    phase = next;
  };
  let rows: Rows;
  let connected = false;
  try {
    await Promise.race([client.connect(), cancel.aborted]);
    connected = true;
    step('setup');
    await client.query(setupSql(timeoutMs));
    if (confined) {
      step('role');
      await client.query('SET LOCAL ROLE steward_reader');
    }
    step('query');
    rows = confined ? await readConfined(client, options.query) : await readDirect(client, options.query);
    step('query');
  } catch (error) {
    if (signal?.aborted) throw new SqlCancelledError(pipeline, signal.reason);
    throw sqlFailure(error, { pipeline, phase, confined, timeoutMs, user: client.user });
  } finally {
    await cancel.dispose();
    if (connected) await client.end().catch(() => {});
    // Aborted while connecting: end() would wait for the handshake (up to connectionTimeoutMillis),
    // so close the socket itself. pg keeps it on `connection.stream`, which its types do not list.
    else (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
  return toTable(rows, pipeline);
}

/**
 * The transaction the query runs in. It is never committed: the connection closes with it open,
 * so PostgreSQL rolls back anything that got past READ ONLY. `client_connection_check_interval` (PostgreSQL 14+) makes
 * the server notice within a second when Steward goes away mid-query (a worker thread that is
 * terminated, a crash) and stop the query then, instead of at its timeout.
 */
function setupSql(timeoutMs: number): string {
  return [
    'BEGIN TRANSACTION READ ONLY',
    `SET LOCAL statement_timeout = ${timeoutMs}`,
    "SELECT pg_catalog.set_config('client_connection_check_interval', '1000', true) " +
      "WHERE pg_catalog.current_setting('client_connection_check_interval', true) IS NOT NULL",
  ].join(';\n');
}

type Rows = { header: string[] | undefined; cells: (string | null)[][] };

/** As the URL's user. `queryMode: 'extended'` (pg ≥ 8.20) sends one Parse message: one statement. */
async function readDirect(client: pg.Client, query: string): Promise<Rows> {
  const config = { text: query, values: [], rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig;
  const result = await client.query(config);
  return {
    header: result.fields.map((field) => field.name),
    cells: result.rows.map((row) =>
      row.map((value) =>
        value === null || value === undefined
          ? null
          : value instanceof Date
            ? value.toISOString()
            : String(value),
      ),
    ),
  };
}

/** As steward_reader, inside steward_sql.read_rows: the column names first, then each row as text. */
async function readConfined(client: pg.Client, query: string): Promise<Rows> {
  const result = await client.query<[(string | null)[] | null]>({
    text: 'SELECT cells FROM steward_sql.read_rows($1) AS cells',
    values: [query],
    rowMode: 'array',
  });
  const [first, ...rest] = result.rows.map((row) => row[0] ?? []);
  return { header: first?.map((name) => name ?? ''), cells: rest };
}

function toTable({ header, cells }: Rows, pipeline: string): Table {
  if (header?.length === 0) throw new StageFailure(`${pipeline}: source.query returned no columns`);
  if (!header || cells.length === 0) throw new StageFailure(`${pipeline}: source.query returned no rows`);
  const collector = createCollector('sql query');
  collector.push({ record: header, info: { lines: 1, empty_lines: 0 } });
  let line = 1;
  for (const row of cells) {
    line++;
    collector.push({ record: row.map((cell) => cell ?? ''), info: { lines: line, empty_lines: 0 } });
  }
  return collector.finish();
}

/**
 * On abort: asks the server, from a second connection, to cancel the query's backend, and
 * cuts the query's connection if that has not ended it within CANCEL_GRACE_MS (the server may
 * be unreachable). `dispose` waits for the second connection to close.
 */
function cancelOnAbort(client: pg.Client, url: string, signal: AbortSignal | undefined) {
  let cancelling: Promise<void> | undefined;
  let cutTimer: NodeJS.Timeout | undefined;
  let rejectAborted: (reason: unknown) => void = () => {};
  /** Rejects on abort: lets a connect that hangs lose a race (ending a connecting client would hang it). */
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
  });
  aborted.catch(() => {});
  const onAbort = () => {
    rejectAborted(signal?.reason);
    // Set once the server has sent BackendKeyData at connect; pg's types do not list it.
    const pid = (client as unknown as { processID: number | null }).processID;
    if (!pid) return;
    cancelling = cancelBackend(url, pid);
    cutTimer = setTimeout(() => void client.end().catch(() => {}), CANCEL_GRACE_MS);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    aborted,
    async dispose() {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(cutTimer);
      await cancelling;
    },
  };
}

async function cancelBackend(url: string, pid: number): Promise<void> {
  const canceller = new pg.Client({
    connectionString: url,
    application_name: 'steward sql cancel',
    connectionTimeoutMillis: CANCEL_GRACE_MS,
  });
  canceller.on('error', () => {});
  try {
    await canceller.connect();
    await canceller.query('SELECT pg_catalog.pg_cancel_backend($1)', [pid]);
  } catch {
    // The grace timer cuts the query's connection instead.
  } finally {
    await canceller.end().catch(() => {});
  }
}
