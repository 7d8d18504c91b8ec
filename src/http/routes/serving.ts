import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { type ErrorCode, httpStatusOf, isStewardError, StewardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import {
  InferRequest,
  inferResponse,
  modelMetadata,
  rowsOfInputs,
} from '../../stages/serve/inference-protocol.ts';
import { predictionJson } from '../../stages/serve/predict.ts';
import type { ServingService } from '../../stages/serve/serving.ts';
import { jsonOnly } from '../guards.ts';

/** Rows one request may carry. */
export const MAX_ROWS = 10_000;
/** The largest request body the serving endpoints take. */
export const MAX_SERVING_BODY = '8mb';

export type ServingRouteDeps = {
  serving: ServingService;
  /** `token`: every request needs a live bearer token (a `predict`-scoped one will do); `none`: no token. */
  auth: 'token' | 'none';
  /** The request's verified bearer principal (the authenticator's `bearerOf`). */
  bearerOf(req: Request, res: Response): Promise<unknown>;
  log: Logger;
  /** Counts the errors these routes answer themselves; the app's error handler counts the rest. */
  metrics?: Pick<Metrics, 'errors'>;
  version: string;
};

const HOW =
  'send `Authorization: Bearer <token>`; `steward token create <user> --scope predict` makes a token for the prediction endpoints';

/** A request id a client chose (`X-Request-Id`, or a v2 body's `id`), when it is a sensible one. */
const REQUEST_ID = /^[\w.:@-]{1,128}$/;
const requestIdOf = (...candidates: unknown[]): string | undefined =>
  candidates.find((c): c is string => typeof c === 'string' && REQUEST_ID.test(c));

function versionOf(req: Request): number | undefined {
  const raw = req.params.version;
  if (raw === undefined) return undefined;
  const version = Number(String(raw).replace(/^v/i, ''));
  if (!Number.isInteger(version) || version < 1) {
    throw new StewardError('BAD_REQUEST', `version "${raw}" is not a version number such as 3`);
  }
  return version;
}

function rowsLimit(n: number): void {
  if (n > MAX_ROWS) {
    throw new StewardError('TOO_LARGE', `${n} rows in one request; send at most ${MAX_ROWS} per request`);
  }
}

/**
 * The prediction endpoints: TensorFlow Serving / KServe v1 (`/v1/models/:name:predict`,
 * also `/v1/models/:name/predict`), feedback, and the Open Inference Protocol (`/v2`).
 * JSON bodies only, at most MAX_SERVING_BODY and MAX_ROWS rows. v2 routes answer errors
 * as `{"error": "..."}`, as that protocol says; the others as the rest of Steward does.
 */
export function servingRoutes(deps: ServingRouteDeps): Router {
  const { serving, log, metrics } = deps;
  const router = express.Router();
  const body = [jsonOnly, express.json({ limit: MAX_SERVING_BODY, type: 'application/json' })];

  async function authorize(req: Request, res: Response, next: NextFunction) {
    if (deps.auth === 'none' && !req.headers.authorization) return next();
    if (!(await deps.bearerOf(req, res))) {
      throw new StewardError(
        'UNAUTHORIZED',
        req.headers.authorization ? `wrong or revoked token; ${HOW}` : `no credential; ${HOW}`,
      );
    }
    next();
  }

  async function predictV1(req: Request, res: Response) {
    const instances = (req.body as { instances?: unknown } | undefined)?.instances;
    if (!Array.isArray(instances) || instances.length === 0) {
      throw new StewardError(
        'BAD_REQUEST',
        'send {"instances": [{"feature": value, …}, …]} with at least one row',
      );
    }
    rowsLimit(instances.length);
    const name = String(req.params.name);
    const version = versionOf(req);
    const requestId = requestIdOf(req.headers['x-request-id']);
    const result = await serving.predict({
      model: name,
      rows: instances,
      headers: req.headers,
      ...(version !== undefined ? { version } : {}),
      ...(requestId ? { requestId } : {}),
    });
    res.setHeader('x-request-id', result.requestId);
    const errors = result.rows.flatMap(({ outcome }) => (outcome.ok ? [] : [outcome.error]));
    if (errors.length === result.rows.length) {
      metrics?.errors.inc({ code: 'BAD_REQUEST' });
      res.status(400).json({
        error: {
          code: 'BAD_REQUEST',
          message:
            errors.length === 1
              ? (errors[0]?.message ?? 'the row cannot be scored')
              : `none of the ${errors.length} rows can be scored; the first: ${errors[0]?.message}`,
          rows: errors,
        },
        request_id: result.requestId,
      });
      return;
    }
    res.json({
      predictions: result.rows.map(({ outcome, model }) =>
        outcome.ok ? predictionJson(model, outcome.prediction) : null,
      ),
      model: result.model,
      version: result.answeredBy,
      versions: result.rows.map(({ outcome, model }) => (outcome.ok ? model.version : null)),
      request_id: result.requestId,
      ...(errors.length > 0 ? { errors } : {}),
    });
  }

  async function feedback(req: Request, res: Response) {
    const given = (req.body ?? {}) as Record<string, unknown>;
    const requestId = given.request_id ?? given.id;
    if (typeof requestId !== 'string' || requestId === '') {
      throw new StewardError(
        'BAD_REQUEST',
        'send {"request_id": "<the id a prediction answered with>", "label": <the true value>, "row"?: 0}',
      );
    }
    if (!('label' in given) || given.label === null) {
      throw new StewardError('BAD_REQUEST', 'feedback needs "label": the true value for that prediction');
    }
    const row = given.row;
    if (row !== undefined && (!Number.isInteger(row) || (row as number) < 0)) {
      throw new StewardError('BAD_REQUEST', '"row" is the row number in the request: 0, 1, …');
    }
    const done = await serving.feedback({
      pipeline: String(req.params.name),
      requestId,
      label: given.label,
      ...(row !== undefined ? { row: row as number } : {}),
    });
    res.json({ request_id: requestId, label: done.label, updated: done.updated });
  }

  async function metadata(req: Request, res: Response) {
    const name = String(req.params.name);
    const version = versionOf(req);
    const current = await serving.cache.get(name);
    const loaded = version === undefined ? current.production : await serving.cache.version(name, version);
    res.json(modelMetadata(current, loaded));
  }

  async function modelReady(req: Request, res: Response) {
    const name = String(req.params.name);
    const version = versionOf(req);
    if (version === undefined) await serving.cache.get(name);
    else await serving.cache.version(name, version);
    res.json({ name, ready: true });
  }

  async function infer(req: Request, res: Response) {
    const parsed = InferRequest.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new StewardError(
        'BAD_REQUEST',
        `not an inference request: ${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'malformed'}`,
      );
    }
    const request = parsed.data;
    const name = String(req.params.name);
    const version = versionOf(req);
    const current = await serving.cache.get(name);
    const shape = version === undefined ? current.production : await serving.cache.version(name, version);
    const rows = rowsOfInputs(request, shape);
    if (rows.length === 0) throw new StewardError('BAD_REQUEST', 'the inputs hold no rows');
    rowsLimit(rows.length);
    const requestId = requestIdOf(req.headers['x-request-id'], request.id);
    const result = await serving.predict({
      model: name,
      rows,
      headers: req.headers,
      ...(version !== undefined ? { version } : {}),
      ...(requestId ? { requestId } : {}),
    });
    res.setHeader('x-request-id', result.requestId);
    res.json(inferResponse(request, result));
  }

  router.post('/v1/models/:name\\:predict', authorize, body, predictV1);
  router.post('/v1/models/:name/predict', authorize, body, predictV1);
  router.post('/v1/models/:name/versions/:version\\:predict', authorize, body, predictV1);
  router.post('/v1/models/:name/versions/:version/predict', authorize, body, predictV1);
  router.post('/v1/models/:name/feedback', authorize, body, feedback);

  router.get('/v2/health/live', (_req, res) => {
    res.json({ live: true });
  });
  router.get('/v2/health/ready', (_req, res) => {
    const ready = serving.cache.ready();
    res.status(ready ? 200 : 503).json({ ready });
  });
  router.get('/v2', authorize, (_req, res) => {
    res.json({ name: 'steward', version: deps.version, extensions: [] });
  });
  router.get('/v2/models/:name', authorize, metadata);
  router.get('/v2/models/:name/versions/:version', authorize, metadata);
  router.get('/v2/models/:name/ready', authorize, modelReady);
  router.get('/v2/models/:name/versions/:version/ready', authorize, modelReady);
  router.post('/v2/models/:name/infer', authorize, body, infer);
  router.post('/v2/models/:name/versions/:version/infer', authorize, body, infer);

  router.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const known = servingError(error);
    if (!known) {
      if (!req.path.startsWith('/v2')) return next(error);
      metrics?.errors.inc({ code: 'INTERNAL' });
      log.error('inference request failed', { path: req.path, error });
      res.status(500).json({ error: 'internal error; the server log has the details' });
      return;
    }
    metrics?.errors.inc({ code: known.code });
    const status = httpStatusOf(known.code);
    if (req.path.startsWith('/v2')) res.status(status).json({ error: known.message });
    else res.status(status).json({ error: { code: known.code, message: known.message } });
  });
  return router;
}

/** StewardErrors as they are; the body parser's refusals with the serving limits in their words. */
function servingError(error: unknown): StewardError | undefined {
  if (isStewardError(error)) return error;
  const type = (error as { type?: string } | undefined)?.type;
  const as = (code: ErrorCode, message: string) => new StewardError(code, message);
  if (type === 'entity.parse.failed') return as('BAD_REQUEST', 'request body is not valid JSON');
  if (type === 'entity.too.large') {
    return as(
      'TOO_LARGE',
      `request body is larger than ${MAX_SERVING_BODY.replace('mb', ' MB')}; send fewer rows per request`,
    );
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return as('UNSUPPORTED_MEDIA_TYPE', 'send the body as UTF-8 JSON');
  }
  return undefined;
}
