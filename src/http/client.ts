import { type ErrorCode, StewardError } from '../errors.ts';
import type { RunService } from '../workflows/run-service.ts';

/**
 * The RunService over a running Steward's REST API: what the CLI uses while `steward start`
 * holds the embedded database, or when STEWARD_URL names a remote one.
 */
export function createHttpRunService(baseUrl: string, token?: string): RunService {
  async function call<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw new StewardError(
        'SERVER_UNREACHABLE',
        `cannot reach Steward at ${baseUrl}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const payload = (await res.json().catch(() => ({}))) as { error?: { code: ErrorCode; message: string } };
    if (!res.ok) {
      throw new StewardError(
        payload.error?.code ?? 'BAD_REQUEST',
        payload.error?.message ?? `HTTP ${res.status}`,
      );
    }
    return payload as T;
  }
  return {
    start: (r) =>
      call(
        'POST',
        '/api/runs',
        { pipeline: r.pipeline, params: r.params ?? {}, as: r.requestedBy },
        r.requestKey,
      ),
    async list(filter = {}) {
      const query = new URLSearchParams();
      if (filter.pipeline) query.set('pipeline', filter.pipeline);
      if (filter.states?.length) query.set('state', filter.states.join(','));
      if (filter.limit) query.set('limit', String(filter.limit));
      return (await call<{ runs: Awaited<ReturnType<RunService['list']>> }>('GET', `/api/runs?${query}`))
        .runs;
    },
    show: (ref) => {
      if (!('number' in ref)) throw new Error('the REST API addresses runs by number');
      return call('GET', `/api/runs/${ref.number}`);
    },
    act: ({ run, action, as, reason, idempotencyKey }) => {
      if (!('number' in run)) throw new Error('the REST API addresses runs by number');
      return call(
        'POST',
        `/api/runs/${run.number}/${action}`,
        { as, ...(reason ? { reason } : {}) },
        idempotencyKey,
      );
    },
    async models(pipeline) {
      const query = pipeline ? `?pipeline=${encodeURIComponent(pipeline)}` : '';
      return (await call<{ models: Awaited<ReturnType<RunService['models']>> }>('GET', `/api/models${query}`))
        .models;
    },
    async pipelines() {
      return (await call<{ pipelines: string[] }>('GET', '/api/pipelines')).pipelines;
    },
  };
}
