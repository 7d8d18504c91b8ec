import { type Response, Router } from 'express';
import { z } from 'zod';
import type { Access } from '../../workflows/access.ts';
import type { DeploymentResult } from '../../workflows/deployments.ts';
import { bodyOf, idempotencyKeyOf } from './body.ts';

/** `3`, `"3"` or `"v3"`: a model version. */
const Version = z.union([
  z
    .number()
    .int()
    .positive()
    .max(2 ** 31 - 1),
  z
    .string()
    .regex(/^v?\d{1,10}$/, 'a version such as v3')
    .transform((v) => Number(v.replace(/^v/, ''))),
]);
const As = z.string().min(1).optional();
const DeployBody = z.object({ version: Version, as: As }).strict();
const RollbackBody = z.object({ version: Version.optional(), as: As }).strict();
const PromoteBody = z.object({ as: As }).strict();

/** 201 for a new run, 200 for a retried request's run or a request that changes nothing. */
const statusOf = (result: DeploymentResult) => (result.status === 'started' && result.created ? 201 : 200);

/** `/api/pipelines/:name/deploy|rollback|promote|history`: the production alias of a pipeline. */
export function deploymentRoutes(accessOf: (res: Response) => Access): Router {
  const router = Router();
  router.post('/pipelines/:name/deploy', async (req, res) => {
    const { version, as } = bodyOf(DeployBody, req);
    const key = idempotencyKeyOf(req, res);
    const result = await accessOf(res).deploy({
      pipeline: req.params.name,
      version,
      ...(as ? { as } : {}),
      ...(key ? { requestKey: key } : {}),
    });
    res.status(statusOf(result)).json(result);
  });
  router.post('/pipelines/:name/rollback', async (req, res) => {
    const { version, as } = bodyOf(RollbackBody, req);
    const key = idempotencyKeyOf(req, res);
    const result = await accessOf(res).rollback({
      pipeline: req.params.name,
      ...(version !== undefined ? { version } : {}),
      ...(as ? { as } : {}),
      ...(key ? { requestKey: key } : {}),
    });
    res.status(statusOf(result)).json(result);
  });
  router.post('/pipelines/:name/promote', async (req, res) => {
    const { as } = bodyOf(PromoteBody, req);
    res.json(await accessOf(res).promote({ pipeline: req.params.name, ...(as ? { as } : {}) }));
  });
  router.get('/pipelines/:name/history', async (req, res) => {
    res.json({ history: await accessOf(res).history(req.params.name) });
  });
  return router;
}
