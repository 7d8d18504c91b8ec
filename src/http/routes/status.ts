import { type NextFunction, type Request, type Response, Router } from 'express';
import { isStewardError } from '../../errors.ts';
import type { Access } from '../../workflows/access.ts';
import { reloadPage, signInPage, statusPage } from '../status-page.ts';

export type PageAuth = {
  authenticate(req: Request, res: Response, next: NextFunction): Promise<void>;
  exchange(req: Request, res: Response): Promise<boolean>;
};

/**
 * A browser page's credential: the start URL's `?token=` becomes a session (and a 303), a
 * session is authenticated, and without one the sign-in page is sent (401), or for a link
 * from another site a page that loads itself again from here. True when the page may be answered.
 */
export async function signedIn(auth: PageAuth, req: Request, res: Response): Promise<boolean> {
  if (await auth.exchange(req, res)) return false;
  try {
    await auth.authenticate(req, res, () => {});
    return true;
  } catch (error) {
    if (!isStewardError(error) || error.code !== 'UNAUTHORIZED') throw error;
    // A link followed from another site (a [Details] button in Slack) comes without the
    // SameSite=Strict session cookie. Loaded again from this origin, it comes with it.
    if (req.method === 'GET' && req.headers['sec-fetch-site'] === 'cross-site') {
      res.status(200).type('html').send(reloadPage());
      return false;
    }
    res.status(401).type('html').send(signInPage());
    return false;
  }
}

/** `GET /`: the status page, for a browser session; the start URL's `?token=` makes one. */
export function statusRoutes({
  auth,
  accessOf,
  version,
}: {
  auth: PageAuth;
  accessOf: (res: Response) => Access;
  version: string;
}): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    if (!(await signedIn(auth, req, res))) return;
    const access = accessOf(res);
    const [runs, models] = await Promise.all([access.list({ limit: 20 }), access.models()]);
    res.type('html').send(statusPage({ runs, models, version }));
  });
  return router;
}
