/**
 * The one error type Steward throws on purpose. `code` is stable and machine-readable;
 * callers branch on it, and the chat edge maps it to text. `message` already says what
 * to do next, so the CLI and the REST API can show it as it is.
 */
export type ErrorCode =
  | 'CONFIG_INVALID' // an environment variable is wrong: fix it and restart
  | 'DATA_DIR_LOCKED' // another process holds the embedded database: stop it or point at it
  | 'PIPELINE_NOT_FOUND' // no spec with that name: check `pipelines/`
  | 'PIPELINE_INVALID' // the spec does not validate: fix the listed fields
  | 'RUN_NOT_FOUND' // no run with that number
  | 'EVENT_NOT_ALLOWED' // the run's state does not accept the event: nothing changed
  | 'FORBIDDEN' // the actor's role does not allow the action: nothing changed
  | 'CONFLICT' // a concurrent writer won; safe to retry
  | 'BAD_REQUEST' // a request body or argument is malformed
  | 'KEY_REUSED' // an idempotency key sent again with a different request: use a new key
  | 'UNAUTHORIZED' // missing or wrong credential
  | 'NOT_FOUND' // no such route, token or other thing (runs and pipelines have their own codes)
  | 'TOO_LARGE' // a request body is larger than allowed
  | 'UNSUPPORTED_MEDIA_TYPE' // a body that is not JSON where only JSON is taken
  | 'UNKNOWN_HOST' // a request for a host name Steward does not serve (DNS rebinding)
  | 'STAGE_FAILED' // a stage threw; the run's timeline has the report
  | 'MODEL_UNAVAILABLE' // a deployed model version cannot be loaded: redeploy or roll back; retrying will not help
  | 'SERVER_UNREACHABLE' // the CLI could not reach a running Steward
  | 'DATABASE_UNREACHABLE'; // DATABASE_URL names a PostgreSQL that does not answer

export class StewardError extends Error {
  override readonly name = 'StewardError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const isStewardError = (error: unknown): error is StewardError => error instanceof StewardError;

/** HTTP status for an error code, used by the REST API. */
export function httpStatusOf(code: ErrorCode): number {
  switch (code) {
    case 'RUN_NOT_FOUND':
    case 'PIPELINE_NOT_FOUND':
    case 'NOT_FOUND':
      return 404;
    case 'TOO_LARGE':
      return 413;
    case 'UNSUPPORTED_MEDIA_TYPE':
      return 415;
    case 'UNKNOWN_HOST':
      return 421;
    case 'FORBIDDEN':
      return 403;
    case 'UNAUTHORIZED':
      return 401;
    case 'EVENT_NOT_ALLOWED':
    case 'CONFLICT':
    case 'DATA_DIR_LOCKED':
      return 409;
    case 'KEY_REUSED':
      return 422;
    case 'BAD_REQUEST':
    case 'PIPELINE_INVALID':
    case 'CONFIG_INVALID':
      return 400;
    case 'DATABASE_UNREACHABLE':
    case 'MODEL_UNAVAILABLE':
      return 503;
    default:
      return 500;
  }
}
