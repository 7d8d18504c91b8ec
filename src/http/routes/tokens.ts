import { type Response, Router } from 'express';
import { z } from 'zod';
import { TOKEN_SCOPES } from '../../db/credentials-repo.ts';
import type { Access } from '../../workflows/access.ts';
import { bodyOf } from './body.ts';

const CreateBody = z
  .object({
    user: z.string().min(1).optional(),
    name: z.string().min(1).max(100).optional(),
    scope: z.enum(TOKEN_SCOPES).optional(),
  })
  .strict();

/** `/api/tokens`: personal API tokens; the token itself is in the answer to POST only. */
export function tokenRoutes(accessOf: (res: Response) => Access): Router {
  const router = Router();
  router.get('/tokens', async (_req, res) => {
    res.json({ tokens: await accessOf(res).listTokens() });
  });
  router.post('/tokens', async (req, res) => {
    const { user, name, scope } = bodyOf(CreateBody, req);
    res.status(201).json(
      await accessOf(res).createToken({
        ...(user ? { user } : {}),
        ...(name ? { name } : {}),
        ...(scope ? { scope } : {}),
      }),
    );
  });
  router.delete('/tokens/:id', async (req, res) => {
    await accessOf(res).revokeToken(req.params.id);
    res.status(204).end();
  });
  return router;
}
