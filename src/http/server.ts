import http from 'node:http';
import { isValidSlackRequest } from '@slack/bolt';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Console } from '../bot/console/console.ts';
import type { Database } from '../db/client.ts';
import { withoutQueryText } from '../db/database-error.ts';
import { httpStatusOf, isStewardError, StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ServingService } from '../stages/serve/serving.ts';
import { type Access, type AccessDeps, createAccess } from '../workflows/access.ts';
import { createAuthenticator, principalOf } from './auth.ts';
import { browserGuard, hostRules, jsonOnly } from './guards.ts';
import { createHealthCheck, type HealthReport } from './health.ts';
import { consoleApiRoutes, consolePageRoutes } from './routes/console.ts';
import { deploymentRoutes } from './routes/deployments.ts';
import { driftRoutes } from './routes/drift.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { pageRoutes } from './routes/pages.ts';
import { roleRoutes } from './routes/roles.ts';
import { runRoutes } from './routes/runs.ts';
import { servingRoutes } from './routes/serving.ts';
import { statusRoutes } from './routes/status.ts';
import { tokenRoutes } from './routes/tokens.ts';

export type HttpDeps = AccessDeps & {
  database: Database;
  log: Logger;
  version: string;
  /** `STEWARD_API_TOKEN`: a bearer credential for the admin user `api`. */
  apiToken?: string;
  /** The data dir's secret: a bearer credential for the admin user `local` (the CLI on this machine). */
  localSecret?: string;
  /** `STEWARD_PUBLIC_URL`: its host is Steward's own, and https makes cookies `Secure`. */
  publicUrl?: string;
  /** `STEWARD_ALLOWED_HOSTS`: more host names Steward answers to. */
  allowedHosts?: string[];
  /** The local chat console at `/`; without it `/` is the status page. */
  console?: Console;
  /** Slack's endpoint: Bolt's `ExpressReceiver` router, with its signing secret. */
  slack?: { router: Router; signingSecret: string };
  /**
   * What `/healthz` reports: 200 when every part is ok, 503 naming the part that is not.
   * @default a database ping only (`createHealthCheck({ database })`)
   */
  health?: () => Promise<HealthReport>;
  /**
   * Model serving (`/v1/models/…`, `/v2/…`); without it those routes are not mounted.
   * `auth` is `STEWARD_SERVING_AUTH`.
   */
  serving?: { service: ServingService; auth: 'token' | 'none' };
  /** Steward's series: `GET /metrics` renders them, and every error answered is counted. Without it, no `/metrics`. */
  metrics?: Metrics;
  /** Whether `GET /metrics` needs a bearer token (config `metricsAuth`). @default 'token' */
  metricsAuth?: 'token' | 'none';
};

const MAX_BODY = '64kb';
const MAX_SLACK_BODY = '1mb';

/**
 * Steward's one HTTP application. Every request passes the browser rules (known Host,
 * own Origin for changes), then its route module; `/api` establishes the actor from the
 * request's credential and takes JSON bodies only; one error handler turns StewardErrors
 * into their status codes.
 */
export function createHttpApp(deps: HttpDeps): express.Express {
  const { database, log, version } = deps;
  const auth = createAuthenticator({
    database,
    ...(deps.apiToken ? { apiToken: deps.apiToken } : {}),
    ...(deps.localSecret ? { localSecret: deps.localSecret } : {}),
    secureCookies: deps.publicUrl?.startsWith('https:') ?? false,
  });
  const accessOf = (res: Response): Access => {
    res.locals.access ??= createAccess(deps, principalOf(res));
    return res.locals.access as Access;
  };
  const app = express();
  app.disable('x-powered-by');
  // JSON answers are never revalidated, so hashing each one for an ETag is wasted work.
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(
    browserGuard(
      hostRules({
        ...(deps.publicUrl ? { publicUrl: deps.publicUrl } : {}),
        allowedHosts: deps.allowedHosts ?? [],
      }),
      auth.bearerOf,
    ),
  );
  if (deps.slack) {
    // Bolt's router holds the full path (`/slack/events`), so it is mounted at the root.
    app.post('/slack/events', slackPrecheck(deps.slack.signingSecret, log));
    app.use(deps.slack.router);
  }
  app.use(healthRoutes({ health: deps.health ?? createHealthCheck({ database }), version }));
  if (deps.serving) {
    const { service, auth: servingAuth } = deps.serving;
    app.use(
      servingRoutes({
        serving: service,
        auth: servingAuth,
        bearerOf: auth.bearerOf,
        log,
        version,
        ...(deps.metrics ? { metrics: deps.metrics } : {}),
      }),
    );
  }
  if (deps.metrics) {
    const { registry } = deps.metrics;
    app.use(metricsRoutes({ registry, auth: deps.metricsAuth ?? 'token', bearerOf: auth.bearerOf }));
  }
  app.use(pageRoutes({ auth, accessOf, database }));
  app.use(deps.console ? consolePageRoutes({ auth }) : statusRoutes({ auth, accessOf, version }));
  const api = express.Router();
  api.use(jsonOnly, express.json({ limit: MAX_BODY, type: 'application/json' }), auth.authenticate);
  api.use(
    runRoutes(accessOf),
    deploymentRoutes(accessOf),
    driftRoutes(accessOf),
    roleRoutes(accessOf),
    tokenRoutes(accessOf),
  );
  if (deps.console) api.use(consoleApiRoutes({ console: deps.console, database }));
  app.use('/api', api);
  app.use((req: Request) => {
    throw new StewardError('NOT_FOUND', `no route for ${req.method} ${req.path}`);
  });
  app.use(answerErrors({ log, ...(deps.metrics ? { metrics: deps.metrics } : {}) }));
  return app;
}

/** Steward's HTTP server: the application of `createHttpApp` on a node:http server. */
export function createHttpServer(deps: HttpDeps): http.Server {
  return http.createServer(createHttpApp(deps));
}

/**
 * The last handler: a StewardError becomes its status code and `{ error: { code, message } }`,
 * anything else a logged 500 `INTERNAL`; each is counted in `steward_errors_total` by code.
 */
export function answerErrors({ log, metrics }: { log: Logger; metrics?: Pick<Metrics, 'errors'> }) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = asStewardError(error);
    metrics?.errors.inc({ code: known?.code ?? 'INTERNAL' });
    if (known) {
      res.status(httpStatusOf(known.code)).json({ error: { code: known.code, message: known.message } });
      return;
    }
    // The error as the logger reduces it, and where it came from (a query's text and parameters cut out).
    const stack = withoutQueryText((error as Error | undefined)?.stack ?? '');
    log.error('request failed', { method: req.method, path: req.path, error, stack });
    res
      .status(500)
      .json({ error: { code: 'INTERNAL', message: 'internal error; the server log has the details' } });
  };
}

/** StewardErrors as they are; the body parser's refusals (bad JSON, too large) as theirs. */
function asStewardError(error: unknown): StewardError | undefined {
  if (isStewardError(error)) return error;
  const type = (error as { type?: string } | undefined)?.type;
  if (type === 'entity.parse.failed')
    return new StewardError('BAD_REQUEST', 'request body is not valid JSON');
  if (type === 'entity.too.large') {
    return new StewardError('TOO_LARGE', `request body is larger than ${MAX_BODY}`);
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return new StewardError('UNSUPPORTED_MEDIA_TYPE', 'send the body as UTF-8 JSON');
  }
  // Express's own refusals of a request (a malformed percent-escape in the path …).
  const { status, message } = error as { status?: number; message?: string };
  if (status !== undefined && status >= 400 && status < 500) {
    return new StewardError('BAD_REQUEST', `invalid request: ${message ?? 'malformed'}`);
  }
  return undefined;
}

/** Slack's replay window, in seconds, applied in both directions. */
const SLACK_WINDOW_SECONDS = 5 * 60;

/**
 * Before Bolt: Bolt checks only that a request is not too old, so one stamped more than 5
 * minutes in the future is refused here; and a correctly signed payload that is not an
 * object (`payload=null`) is a 400 with one log line, not an error inside Bolt. The raw
 * body is handed on as `rawBody`, which Bolt verifies the signature of.
 */
function slackPrecheck(signingSecret: string, log: Logger) {
  const raw = express.raw({ type: () => true, limit: MAX_SLACK_BODY });
  return [
    (req: Request, res: Response, next: NextFunction) => {
      const seconds = Number(req.headers['x-slack-request-timestamp']);
      if (Number.isFinite(seconds) && seconds - Date.now() / 1000 > SLACK_WINDOW_SECONDS) {
        log.warn('slack request refused: its timestamp is more than 5 minutes ahead');
        res
          .status(401)
          .json({ error: { code: 'UNAUTHORIZED', message: 'request timestamp is in the future' } });
        return;
      }
      next();
    },
    raw,
    (req: Request, res: Response, next: NextFunction) => {
      const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      (req as Request & { rawBody?: Buffer }).rawBody = Buffer.from(body, 'utf8');
      const signed = isValidSlackRequest({
        signingSecret,
        body,
        headers: {
          'x-slack-signature': String(req.headers['x-slack-signature'] ?? ''),
          'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
        },
      });
      // Unsigned requests go on to Bolt, which refuses them (401) and logs why.
      if (signed && !isSlackPayload(body, req.headers['content-type'])) {
        log.warn('slack request refused: its payload is not an object', { path: req.originalUrl });
        res.status(400).json({ error: { code: 'BAD_REQUEST', message: 'malformed Slack payload' } });
        return;
      }
      next();
    },
  ];
}

function isSlackPayload(body: string, contentType: string | undefined): boolean {
  try {
    if (contentType?.startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(body).get('payload');
      if (payload === null) return true; // a slash command: plain form fields
      const parsed: unknown = JSON.parse(payload);
      return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
    }
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  } catch {
    return false;
  }
}
