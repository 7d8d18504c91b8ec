import { type ErrorCode, StewardError } from '../errors.ts';
import type { Access, GrantView, TokenView, WhoAmI } from '../workflows/access.ts';
import type { HistoryEntry } from '../workflows/deployments.ts';
import type { AlertView } from '../workflows/monitoring.ts';
import type { RunService } from '../workflows/run-service.ts';

type Runs = Awaited<ReturnType<RunService['list']>>;
type Models = Awaited<ReturnType<RunService['models']>>;

/**
 * Access over a running Steward's REST API: what the CLI uses while `steward start` holds
 * the embedded database (with the data dir's secret), or when STEWARD_URL names a remote
 * one (with the person's STEWARD_TOKEN). `missingToken` says how to get a credential.
 */
export function createHttpAccess(baseUrl: string, token: string | undefined, missingToken: string): Access {
  async function call<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
    if (!token) throw new StewardError('UNAUTHORIZED', missingToken);
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
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
    if (res.status === 204) return undefined as T;
    const payload = (await res.json().catch(() => ({}))) as { error?: { code: ErrorCode; message: string } };
    if (!res.ok) {
      const message = payload.error?.message ?? `HTTP ${res.status}`;
      throw new StewardError(
        payload.error?.code ?? 'BAD_REQUEST',
        res.status === 401 ? `${message}\n${missingToken}` : message,
      );
    }
    return payload as T;
  }
  const byNumber = (ref: { number: number } | { id: string }) => {
    if (!('number' in ref)) throw new Error('the REST API addresses runs by number');
    return ref.number;
  };
  return {
    whoami: () => call<WhoAmI>('GET', '/api/whoami'),
    start: ({ pipeline, params, as, requestKey }) =>
      call('POST', '/api/runs', { pipeline, params: params ?? {}, ...(as ? { as } : {}) }, requestKey),
    act: ({ run, action, as, reason, idempotencyKey }) =>
      call(
        'POST',
        `/api/runs/${byNumber(run)}/${action}`,
        { ...(as ? { as } : {}), ...(reason ? { reason } : {}) },
        idempotencyKey,
      ),
    deploy: ({ pipeline, version, as, requestKey }) =>
      call(
        'POST',
        `/api/pipelines/${encodeURIComponent(pipeline)}/deploy`,
        { version, ...(as ? { as } : {}) },
        requestKey,
      ),
    rollback: ({ pipeline, version, as, requestKey }) =>
      call(
        'POST',
        `/api/pipelines/${encodeURIComponent(pipeline)}/rollback`,
        { ...(version !== undefined ? { version } : {}), ...(as ? { as } : {}) },
        requestKey,
      ),
    promote: ({ pipeline, as }) =>
      call('POST', `/api/pipelines/${encodeURIComponent(pipeline)}/promote`, as ? { as } : {}),
    async history(pipeline) {
      return (
        await call<{ history: HistoryEntry[] }>(
          'GET',
          `/api/pipelines/${encodeURIComponent(pipeline)}/history`,
        )
      ).history;
    },
    async list(filter = {}) {
      const query = new URLSearchParams();
      if (filter.pipeline) query.set('pipeline', filter.pipeline);
      if (filter.states?.length) query.set('state', filter.states.join(','));
      if (filter.limit) query.set('limit', String(filter.limit));
      return (await call<{ runs: Runs }>('GET', `/api/runs?${query}`)).runs;
    },
    show: (ref) => call('GET', `/api/runs/${byNumber(ref)}`),
    async models(pipeline) {
      const query = pipeline ? `?pipeline=${encodeURIComponent(pipeline)}` : '';
      return (await call<{ models: Models }>('GET', `/api/models${query}`)).models;
    },
    async pipelines() {
      return (await call<{ pipelines: string[] }>('GET', '/api/pipelines')).pipelines;
    },
    async roles() {
      return (await call<{ grants: GrantView[] }>('GET', '/api/roles')).grants;
    },
    async grant(request) {
      await call('POST', '/api/roles', request);
    },
    async revoke({ user, pipeline }) {
      const query = pipeline ? `?pipeline=${encodeURIComponent(pipeline)}` : '';
      try {
        await call('DELETE', `/api/roles/${encodeURIComponent(user)}${query}`);
        return true;
      } catch (error) {
        if (error instanceof StewardError && error.code === 'NOT_FOUND') return false;
        throw error;
      }
    },
    createToken: (request) => call<{ token: string } & TokenView>('POST', '/api/tokens', request),
    async listTokens() {
      return (await call<{ tokens: TokenView[] }>('GET', '/api/tokens')).tokens;
    },
    async revokeToken(id) {
      await call('DELETE', `/api/tokens/${encodeURIComponent(id)}`);
    },
    drift: (pipeline) => call('GET', `/api/pipelines/${encodeURIComponent(pipeline)}/drift`),
    async driftHistory(pipeline, limit) {
      const query = limit ? `?limit=${limit}` : '';
      return (
        await call<{ history: Awaited<ReturnType<Access['driftHistory']>> }>(
          'GET',
          `/api/pipelines/${encodeURIComponent(pipeline)}/drift/history${query}`,
        )
      ).history;
    },
    checkDrift: ({ pipeline, as }) =>
      call('POST', `/api/pipelines/${encodeURIComponent(pipeline)}/drift/check`, as ? { as } : {}),
    async alerts(pipeline) {
      return (
        await call<{ alerts: AlertView[] }>('GET', `/api/pipelines/${encodeURIComponent(pipeline)}/alerts`)
      ).alerts;
    },
    alert: (number) => call('GET', `/api/alerts/${number}`),
    snooze: ({ alert, hours, as }) =>
      call('POST', `/api/alerts/${alert}/snooze`, { ...(hours ? { hours } : {}), ...(as ? { as } : {}) }),
    retrain: ({ alert, as }) => call('POST', `/api/alerts/${alert}/retrain`, as ? { as } : {}),
  };
}
