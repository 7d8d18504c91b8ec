import { type Response, Router } from 'express';
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import type { Access } from '../../workflows/access.ts';
import { MAX_RUN_NUMBER, noSuchRunNumber, parseRunNumber } from '../../workflows/run-service.ts';
import { bodyOf, idempotencyKeyOf, queryOf } from './body.ts';

const Params = z.record(
  z.string().regex(/^[A-Za-z_][\w.-]*$/, 'parameter names are letters, digits, _ . -'),
  z.string(),
);
const As = z.string().min(1).optional();
const StartBody = z.object({ pipeline: z.string().min(1), params: Params.default({}), as: As }).strict();
const ActBody = z.object({ as: As, reason: z.string().max(2000).optional() }).strict();
const ListQuery = z.object({
  pipeline: z.string().optional(),
  state: z.string().optional(),
  limit: z.coerce.number().int('must be a whole number').min(1).max(500).default(50),
});

function runNumberOf(text: string): number {
  const number = parseRunNumber(text);
  if (number === undefined)
    throw new StewardError('BAD_REQUEST', `invalid request: \`${text}\` is not a run number`);
  if (number > MAX_RUN_NUMBER) throw noSuchRunNumber(text);
  return number;
}

/** Runs, pipelines and models: `/api/runs…`, `/api/pipelines`, `/api/models`. */
export function runRoutes(accessOf: (res: Response) => Access): Router {
  const router = Router();
  router.get('/runs', async (req, res) => {
    const { pipeline, state, limit } = queryOf(ListQuery, req.query);
    const runs = await accessOf(res).list({
      ...(pipeline ? { pipeline } : {}),
      ...(state ? { states: state.split(',') } : {}),
      limit,
    });
    res.json({ runs });
  });
  router.post('/runs', async (req, res) => {
    const body = bodyOf(StartBody, req);
    const key = idempotencyKeyOf(req, res);
    const result = await accessOf(res).start({
      pipeline: body.pipeline,
      params: body.params,
      ...(body.as ? { as: body.as } : {}),
      ...(key ? { requestKey: key } : {}),
    });
    res.status(result.created ? 201 : 200).json(result);
  });
  router.get('/runs/:n', async (req, res) => {
    res.json(await accessOf(res).show({ number: runNumberOf(req.params.n) }));
  });
  router.post('/runs/:n/:action', async (req, res, next) => {
    const action = req.params.action;
    if (action !== 'approve' && action !== 'reject' && action !== 'cancel') return next();
    const body = bodyOf(ActBody, req);
    const key = idempotencyKeyOf(req, res);
    res.json(
      await accessOf(res).act({
        run: { number: runNumberOf(req.params.n) },
        action,
        ...(body.as ? { as: body.as } : {}),
        ...(body.reason ? { reason: body.reason } : {}),
        ...(key ? { idempotencyKey: key } : {}),
      }),
    );
  });
  router.get('/pipelines', async (_req, res) => {
    res.json({ pipelines: await accessOf(res).pipelines() });
  });
  router.get('/models', async (req, res) => {
    const { pipeline } = req.query;
    res.json({ models: await accessOf(res).models(typeof pipeline === 'string' ? pipeline : undefined) });
  });
  return router;
}
