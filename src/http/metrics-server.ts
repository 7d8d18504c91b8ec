import http from 'node:http';
import express, { type Request } from 'express';
import type { Database } from '../db/client.ts';
import { StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { createAuthenticator } from './auth.ts';
import { browserGuard, hostRules } from './guards.ts';
import type { HealthReport } from './health.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { answerErrors } from './server.ts';

export type MetricsServerDeps = {
  database: Database;
  metrics: Metrics;
  log: Logger;
  version: string;
  /** What `/healthz` reports: the database and this process's job loop. */
  health: () => Promise<HealthReport>;
  /** Whether `/metrics` needs a bearer token (config `metricsAuth`). */
  auth: 'token' | 'none';
  /** `STEWARD_API_TOKEN`, accepted as a scrape's bearer token. */
  apiToken?: string;
  /** The data dir's secret, when this machine has one. */
  localSecret?: string;
  publicUrl?: string;
  allowedHosts?: string[];
};

/**
 * `steward worker`'s own small server, on STEWARD_METRICS_PORT: `GET /healthz` for probes
 * and `GET /metrics` for Prometheus (the stage durations a worker measures exist only in
 * it), under the same browser guard and token rule as the main server's. Nothing else.
 */
export function createMetricsServer(deps: MetricsServerDeps): http.Server {
  const auth = createAuthenticator({
    database: deps.database,
    ...(deps.apiToken ? { apiToken: deps.apiToken } : {}),
    ...(deps.localSecret ? { localSecret: deps.localSecret } : {}),
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(
    browserGuard(
      hostRules({
        ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
        allowedHosts: deps.allowedHosts ?? [],
      }),
      auth.bearerOf,
    ),
  );
  app.use(healthRoutes({ health: deps.health, version: deps.version }));
  app.use(metricsRoutes({ registry: deps.metrics.registry, auth: deps.auth, bearerOf: auth.bearerOf }));
  app.use((req: Request) => {
    throw new StewardError(
      'NOT_FOUND',
      `no route for ${req.method} ${req.path}; this port serves /healthz and /metrics`,
    );
  });
  app.use(answerErrors({ log: deps.log, metrics: deps.metrics }));
  return http.createServer(app);
}
