import { type Response, Router } from 'express';
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import type { Access } from '../../workflows/access.ts';
import { bodyOf } from './body.ts';

const As = z.string().min(1).optional();
const CheckBody = z.object({ as: As }).strict();
const SnoozeBody = z
  .object({
    hours: z
      .number()
      .positive()
      .max(24 * 30, 'at most 720 hours (30 days)')
      .optional(),
    as: As,
  })
  .strict();
const RetrainBody = z.object({ as: As }).strict();

/** An alert number from the path: NOT_FOUND for anything that cannot be one. */
function alertNumber(text: string | undefined): number {
  const n = Number(text);
  if (!/^\d{1,10}$/.test(text ?? '') || n < 1 || n > 2 ** 31 - 1) {
    throw new StewardError('NOT_FOUND', `there is no drift alert #${text}`);
  }
  return n;
}

/**
 * Drift monitoring: `/api/pipelines/:name/drift` (the latest report), `…/drift/history`,
 * `POST …/drift/check` (a check now), `…/alerts`, and `/api/alerts/:n` with its
 * `snooze` and `retrain`, the same as the alert's buttons.
 */
export function driftRoutes(accessOf: (res: Response) => Access): Router {
  const router = Router();
  router.get('/pipelines/:name/drift', async (req, res) => {
    res.json(await accessOf(res).drift(req.params.name));
  });
  router.get('/pipelines/:name/drift/history', async (req, res) => {
    const limit = Math.min(500, Math.max(1, Number(req.query.limit) || 50));
    res.json({ history: await accessOf(res).driftHistory(req.params.name, limit) });
  });
  router.post('/pipelines/:name/drift/check', async (req, res) => {
    const { as } = bodyOf(CheckBody, req);
    res
      .status(201)
      .json(await accessOf(res).checkDrift({ pipeline: req.params.name, ...(as ? { as } : {}) }));
  });
  router.get('/pipelines/:name/alerts', async (req, res) => {
    res.json({ alerts: await accessOf(res).alerts(req.params.name) });
  });
  router.get('/alerts/:number', async (req, res) => {
    res.json(await accessOf(res).alert(alertNumber(req.params.number)));
  });
  router.post('/alerts/:number/snooze', async (req, res) => {
    const { hours, as } = bodyOf(SnoozeBody, req);
    const alert = alertNumber(req.params.number);
    res.json(await accessOf(res).snooze({ alert, ...(hours ? { hours } : {}), ...(as ? { as } : {}) }));
  });
  router.post('/alerts/:number/retrain', async (req, res) => {
    const { as } = bodyOf(RetrainBody, req);
    const result = await accessOf(res).retrain({
      alert: alertNumber(req.params.number),
      ...(as ? { as } : {}),
    });
    res.status(result.created ? 201 : 200).json(result);
  });
  return router;
}
