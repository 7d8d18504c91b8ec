import { StageFailure } from '../stage.ts';

/** Where a sql source was when it failed; the same PostgreSQL error means different things. */
export type SqlPhase = 'connect' | 'setup' | 'role' | 'query';

export type SqlFailureContext = {
  pipeline: string;
  phase: SqlPhase;
  /** True when the query ran on Steward's own database as steward_reader (no source.url). */
  confined: boolean;
  timeoutMs: number;
  /** The database user Steward connected as, for the GRANT it needs. */
  user: string | undefined;
};

/**
 * The run was cancelled (or its attempt released) while the query ran. Not fatal: it is not the
 * query's fault, and the run engine already knows why it stopped the stage.
 */
export class SqlCancelledError extends Error {
  override readonly name = 'AbortError';
  constructor(pipeline: string, reason: unknown) {
    super(`${pipeline}: the sql query was cancelled`, { cause: reason });
  }
}

/** `60000` → `1m`, `1500` → `1.5s`: the unit a spec author would have written. */
export function formatTimeout(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms / 1000}s`;
}

const quoteIdent = (name: string) =>
  /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;

/**
 * Turns a failure of a sql source into the error the stage throws: a StageFailure (the run
 * ends with this report, retrying would fail the same way) saying what to do, or a plain Error
 * when a retry may succeed. Only PostgreSQL's primary message is used: its detail, context and
 * the query's parameters can hold data, and data values in "data exception" messages (class 22,
 * e.g. `invalid input syntax for type integer: "…"`) are blanked.
 */
export function sqlFailure(error: unknown, context: SqlFailureContext): Error {
  const { pipeline, phase, confined } = context;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const raw = error instanceof Error ? error.message : String(error);
  const message = typeof code === 'string' && code.startsWith('22') ? raw.replace(/"[^"]*"/g, '"…"') : raw;
  const refused = `(PostgreSQL refused: ${message})`;
  // The cause keeps only the SQLSTATE: a pg error's other fields (detail, where) can hold data.
  const cause = { code };
  const fail = (text: string) => new StageFailure(`${pipeline}: ${text}`, { cause });

  if ((code === '57014' && message.includes('statement timeout')) || message === 'Query read timeout') {
    return fail(
      `source.query ran longer than source.timeout (${formatTimeout(context.timeoutMs)}) and was stopped. ` +
        'Make the query faster or raise source.timeout (at most 1h).',
    );
  }
  // Cancelled by someone else (an operator's pg_cancel_backend, a server shutdown): try again.
  if (code === '57014' || code === '57P01') {
    return new Error(`${pipeline}: the database stopped the sql query: ${message}`, { cause });
  }
  if (phase === 'connect') return fail(`cannot connect to the sql source's database: ${message}`);
  if (phase === 'role' && code === '42501') {
    const user = context.user ?? '<user>';
    return fail(
      `Steward's database user ${quoteIdent(user)} may not switch to the role steward_reader, which runs ` +
        'sql sources without source.url. A database administrator can allow it with: ' +
        `GRANT steward_reader TO ${quoteIdent(user)};`,
    );
  }
  if (
    (phase === 'role' && code === '42704') ||
    (confined && (code === '3F000' || code === '42883') && message.includes('steward_sql'))
  ) {
    return fail(
      "Steward's database is not set up for sql sources without source.url (the role steward_reader " +
        'and the function steward_sql.read_rows): run `steward migrate`.',
    );
  }
  if (
    message.includes('cannot insert multiple commands into a prepared statement') ||
    message.includes('cannot open multi-query plan as cursor')
  ) {
    return fail(`source.query must be a single SQL statement ${refused}`);
  }
  if (code === '25006')
    return fail(`source.query may only read: it runs in a read-only transaction ${refused}`);
  if (code === '42P11')
    return fail(`source.query must be a query that only reads and returns rows ${refused}`);
  if (/cannot set parameter "(role|session_authorization)"/.test(message)) {
    return fail(`source.query may not change the role it runs as ${refused}`);
  }
  if (confined && code === '42501') {
    return fail(
      `${message}. Without source.url the query runs as steward_reader, which reads only what it was ` +
        'granted: GRANT SELECT ON <table> TO steward_reader',
    );
  }
  return fail(`the sql source failed: ${message}`);
}
