/**
 * Database errors as Steward may show or log them. drizzle wraps every failed query in a
 * `DrizzleQueryError` whose message is "Failed query: <sql>\nparams: <values>", and PGlite
 * attaches `query` and `params` to its errors: the values can be a whole gzipped dataset,
 * a model or a person's data. Only PostgreSQL's own message and SQLSTATE code leave here.
 */

/** PostgreSQL's side of a failure: what the server said, never what was sent. */
export type DatabaseFault = { message: string; code: string; detail?: string };

/**
 * The PostgreSQL error (from pg or PGlite) in `error`'s cause chain: one with a SQLSTATE
 * code and a severity, which Node's own errors (EPIPE, ECONNREFUSED) do not have.
 */
export function databaseCause(error: unknown): DatabaseFault | undefined {
  const seen = new Set<unknown>();
  for (let e = error as (Partial<DatabaseFault> & { cause?: unknown }) | undefined; e && !seen.has(e); ) {
    seen.add(e);
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && 'severity' in e) {
      return {
        message: typeof e.message === 'string' && e.message ? e.message : 'unknown database error',
        code: e.code,
        ...(typeof e.detail === 'string' && e.detail ? { detail: e.detail } : {}),
      };
    }
    e = typeof e === 'object' ? (e.cause as typeof e) : undefined;
  }
  return undefined;
}

const QUERY_TEXT = /Failed query: [\s\S]*?(?=\n\s+at |$)/g;

/** `text` with drizzle's "Failed query: … params: …" cut out (up to a stack trace's frames). */
export function withoutQueryText(text: string): string {
  return text.includes('Failed query: ')
    ? text.replace(QUERY_TEXT, 'a database query failed (its text and parameters are not shown)')
    : text;
}

/** Whether `error` carries a query and its parameters (drizzle's query errors, PGlite's errors). */
const carriesQuery = (error: unknown): error is Error & { cause?: unknown } =>
  error instanceof Error && 'params' in error && 'query' in error;

/**
 * An error as a log line may carry it: a database error as PostgreSQL's message and code
 * ("unsupported Unicode escape sequence (SQLSTATE 22P05)"); a failed query without one (the
 * connection broke) as its cause; anything else as its message, without query text.
 */
export function loggableError(error: unknown): string {
  const database = databaseCause(error);
  if (database) return `${database.message} (SQLSTATE ${database.code})`;
  if (carriesQuery(error)) {
    return error.cause === undefined
      ? 'a database query failed'
      : `a database query failed: ${loggableError(error.cause)}`;
  }
  if (error instanceof Error) return withoutQueryText(error.message || error.name);
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return withoutQueryText(typeof message === 'string' && message ? message : String(error));
}
