import { type Request, type Response, Router } from 'express';
import type { Registry } from 'prom-client';
import { StewardError } from '../../errors.ts';
import type { Principal } from '../../workflows/identity.ts';

export type MetricsRouteDeps = {
  registry: Registry;
  /** `token`: a scrape must carry `Authorization: Bearer` with someone's token (config `metricsAuth`). */
  auth: 'token' | 'none';
  /** Who the request's bearer token is; undefined without one or for a token that is no one's. */
  bearerOf(req: Request, res: Response): Promise<Principal | undefined>;
};

/**
 * `GET /metrics`: the registry in Prometheus' text format. It passes the browser guard like
 * every page (a hostile web page cannot reach it under a name of its own, and cannot read a
 * cross-origin answer), and with `auth: 'token'` it needs a bearer token: the
 * STEWARD_API_TOKEN, the data dir's secret or a personal token (Prometheus' `authorization`
 * setting sends one). A token limited to predictions is refused: its holder is a client
 * of the models, not an operator of Steward.
 */
export function metricsRoutes({ registry, auth, bearerOf }: MetricsRouteDeps): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (auth === 'token') {
      const principal = await bearerOf(req, res);
      if (!principal) {
        throw new StewardError(
          'UNAUTHORIZED',
          req.headers.authorization
            ? 'wrong or revoked token for /metrics'
            : '/metrics needs `Authorization: Bearer <token>` (STEWARD_API_TOKEN or a personal token from `steward token create`)',
        );
      }
      if (principal.scope === 'predict') {
        throw new StewardError(
          'FORBIDDEN',
          `token ${principal.tokenId} is limited to the prediction endpoints; scrape /metrics with a personal token`,
        );
      }
    }
    const body = await registry.metrics();
    res.set('content-type', registry.contentType).set('cache-control', 'no-store').send(body);
  });
  return router;
}
