import { type NextFunction, type Request, type Response, Router } from 'express';
import { isStewardError } from '../../errors.ts';
import type { Access } from '../../workflows/access.ts';
import { signInPage, statusPage } from '../status-page.ts';

type Auth = {
  authenticate(req: Request, res: Response, next: NextFunction): Promise<void>;
  exchange(req: Request, res: Response): Promise<boolean>;
};

/** `GET /`: the status page, for a browser session; the start URL's `?token=` makes one. */
export function statusRoutes({
  auth,
  accessOf,
  version,
}: {
  auth: Auth;
  accessOf: (res: Response) => Access;
  version: string;
}): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    if (await auth.exchange(req, res)) return;
    try {
      await auth.authenticate(req, res, () => {});
    } catch (error) {
      if (!isStewardError(error) || error.code !== 'UNAUTHORIZED') throw error;
      res.status(401).type('html').send(signInPage());
      return;
    }
    const access = accessOf(res);
    const [runs, models] = await Promise.all([access.list({ limit: 20 }), access.models()]);
    res.type('html').send(statusPage({ runs, models, version }));
  });
  return router;
}
