import { createHash, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { httpStatusOf, isStewardError, StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import {
  MAX_RUN_NUMBER,
  noSuchRunNumber,
  parseRunNumber,
  type RunService,
} from '../workflows/run-service.ts';
import { createHealthCheck, type HealthReport } from './health.ts';
import { statusPage } from './status-page.ts';

export type HttpDeps = {
  service: RunService;
  database: Database;
  log: Logger;
  /** Bearer token for /api; without one, /api answers loopback clients only. */
  apiToken: string | undefined;
  version: string;
  /** Slack's endpoint (`/slack/events`), served by Bolt's receiver, when Slack HTTP mode is on. */
  slack?: http.RequestListener;
  /**
   * What `/healthz` reports: 200 when every part is ok, 503 naming the part that is not.
   * @default a database ping only (`createHealthCheck({ database })`)
   */
  health?: () => Promise<HealthReport>;
};

const Params = z.record(
  z.string().regex(/^[A-Za-z_][\w.-]*$/, 'parameter names are letters, digits, _ . -'),
  z.string(),
);
const StartBody = z
  .object({ pipeline: z.string().min(1), params: Params.default({}), as: z.string().min(1).optional() })
  .strict();
const ActBody = z
  .object({ as: z.string().min(1).optional(), reason: z.string().max(2000).optional() })
  .strict();

const MAX_BODY = 64 * 1024;

/** The acting user when a request names none: the local user of the embedded default. */
export const LOCAL_USER = 'local';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `request body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new HttpError(400, `invalid request: ${problems.join('; ')}`);
  }
  return result.data;
}

const isLoopback = (address: string | undefined) =>
  address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';

/**
 * Steward's one HTTP server. This issue's routes: health and the REST API the CLI and CI
 * use. Slack, the console, serving and metrics mount here as they arrive.
 */
export function createHttpServer({
  service,
  database,
  log,
  apiToken,
  version,
  slack,
  health = createHealthCheck({ database }),
}: HttpDeps): http.Server {
  const startedAt = Date.now();

  function authorize(req: http.IncomingMessage) {
    if (apiToken) {
      if (!sameSecret(req.headers.authorization ?? '', `Bearer ${apiToken}`)) {
        throw new StewardError(
          'UNAUTHORIZED',
          'missing or wrong API token: send `Authorization: Bearer $STEWARD_API_TOKEN`',
        );
      }
    } else if (!isLoopback(req.socket.remoteAddress)) {
      throw new StewardError(
        'UNAUTHORIZED',
        'the REST API answers only this machine unless STEWARD_API_TOKEN is set',
      );
    }
  }

  async function route(req: http.IncomingMessage, url: URL): Promise<[number, unknown]> {
    const { pathname } = url;
    const method = req.method ?? 'GET';
    if (pathname === '/' && method === 'GET') {
      const [runs, models] = await Promise.all([service.list({ limit: 20 }), service.models()]);
      return [200, new Html(statusPage({ runs, models, version }))];
    }
    if (pathname === '/healthz' && method === 'GET') {
      const report = await health();
      return [
        report.status === 'ok' ? 200 : 503,
        { ...report, version, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) },
      ];
    }
    if (!pathname.startsWith('/api/')) throw new HttpError(404, `no route for ${method} ${pathname}`);
    authorize(req);
    if (pathname === '/api/runs' && method === 'GET') {
      const state = url.searchParams.get('state');
      const runs = await service.list({
        ...(url.searchParams.get('pipeline') ? { pipeline: url.searchParams.get('pipeline') as string } : {}),
        ...(state ? { states: state.split(',') } : {}),
        limit: Math.min(500, Number(url.searchParams.get('limit') ?? 50) || 50),
      });
      return [200, { runs }];
    }
    if (pathname === '/api/runs' && method === 'POST') {
      const body = parse(StartBody, await readJson(req));
      const key = req.headers['idempotency-key'];
      const result = await service.start({
        pipeline: body.pipeline,
        params: body.params,
        requestedBy: body.as ?? LOCAL_USER,
        ...(typeof key === 'string' && key ? { requestKey: `http:${key}` } : {}),
      });
      return [result.created ? 201 : 200, result];
    }
    if (pathname === '/api/pipelines' && method === 'GET')
      return [200, { pipelines: await service.pipelines() }];
    if (pathname === '/api/models' && method === 'GET') {
      return [200, { models: await service.models(url.searchParams.get('pipeline') ?? undefined) }];
    }
    const match = /^\/api\/runs\/([^/]+)(?:\/(approve|reject|cancel))?$/.exec(pathname);
    if (match) {
      const text = match[1] ?? '';
      const number = parseRunNumber(text);
      if (number === undefined) throw new HttpError(400, `invalid request: \`${text}\` is not a run number`);
      if (number > MAX_RUN_NUMBER) throw noSuchRunNumber(text);
      const action = match[2] as 'approve' | 'reject' | 'cancel' | undefined;
      if (!action && method === 'GET') return [200, await service.show({ number })];
      if (action && method === 'POST') {
        const body = parse(ActBody, await readJson(req));
        const key = req.headers['idempotency-key'];
        return [
          200,
          await service.act({
            run: { number },
            action,
            as: body.as ?? LOCAL_USER,
            ...(body.reason ? { reason: body.reason } : {}),
            ...(typeof key === 'string' && key ? { idempotencyKey: `http:${key}` } : {}),
          }),
        ];
      }
    }
    throw new HttpError(404, `no route for ${method} ${pathname}`);
  }

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Bolt verifies Slack's signature and that the request is not older than 5 minutes; one
    // stamped more than 5 minutes in the future is refused here, before it reaches Bolt.
    if (slack && url.pathname.startsWith('/slack/')) {
      if (isFromTheFuture(req.headers['x-slack-request-timestamp'])) {
        log.warn('slack request refused: its timestamp is more than 5 minutes ahead');
        return send(res, 401, {
          error: { code: 'UNAUTHORIZED', message: 'request timestamp is in the future' },
        });
      }
      return slack(req, res);
    }
    route(req, url)
      .then(([status, body]) => send(res, status, body))
      .catch((error: unknown) => {
        if (error instanceof HttpError)
          return send(res, error.status, { error: { code: 'BAD_REQUEST', message: error.message } });
        if (isStewardError(error)) {
          return send(res, httpStatusOf(error.code), { error: { code: error.code, message: error.message } });
        }
        log.error('request failed', {
          method: req.method,
          path: url.pathname,
          error: (error as Error).stack,
        });
        send(res, 500, {
          error: { code: 'INTERNAL', message: 'internal error; the server log has the details' },
        });
      });
  });
}

/** A body to send as HTML rather than JSON. */
class Html {
  constructor(readonly text: string) {}
}

function send(res: http.ServerResponse, status: number, body: unknown) {
  if (body instanceof Html) {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body.text),
    });
    res.end(body.text);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Compares two secrets in constant time (hashing first evens out their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Slack's replay window, in seconds, applied in both directions. */
const SLACK_WINDOW_SECONDS = 5 * 60;

function isFromTheFuture(header: string | string[] | undefined): boolean {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(seconds) && seconds - Date.now() / 1000 > SLACK_WINDOW_SECONDS;
}
