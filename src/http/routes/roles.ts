import { type Response, Router } from 'express';
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import type { Access } from '../../workflows/access.ts';
import { Role } from '../../workflows/roles.ts';
import { bodyOf } from './body.ts';

const GrantBody = z
  .object({ user: z.string().min(1), role: Role, pipeline: z.string().min(1).optional() })
  .strict();

/** `/api/whoami` and `/api/roles`: the same rules as `/mlops grant|revoke|roles`. */
export function roleRoutes(accessOf: (res: Response) => Access): Router {
  const router = Router();
  router.get('/whoami', async (_req, res) => {
    // A browser session learns here the CSRF token its requests that change something must send.
    const csrf = res.locals.csrf as string | undefined;
    res.json({ ...(await accessOf(res).whoami()), ...(csrf ? { csrf } : {}) });
  });
  router.get('/roles', async (_req, res) => {
    res.json({ grants: await accessOf(res).roles() });
  });
  router.post('/roles', async (req, res) => {
    const { user, role, pipeline } = bodyOf(GrantBody, req);
    await accessOf(res).grant({ user, role, ...(pipeline ? { pipeline } : {}) });
    res.status(201).json({ user, role, pipeline: pipeline ?? '*' });
  });
  router.delete('/roles/:user', async (req, res) => {
    const { pipeline } = req.query;
    const scope = typeof pipeline === 'string' && pipeline ? pipeline : undefined;
    const removed = await accessOf(res).revoke({
      user: req.params.user,
      ...(scope ? { pipeline: scope } : {}),
    });
    if (!removed) {
      throw new StewardError(
        'NOT_FOUND',
        `${req.params.user} holds no ${scope ? `role on ${scope}` : 'global role'}; \`steward roles\` lists the grants`,
      );
    }
    res.status(204).end();
  });
  return router;
}
