import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Database } from '../db/client.ts';
import { createSession, findSession, useToken } from '../db/credentials-repo.ts';
import { StewardError } from '../errors.ts';
import { API_USER, LOCAL_USER, type Principal } from '../workflows/identity.ts';
import { isMutating } from './guards.ts';

export const SESSION_COOKIE = 'steward_session';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export type Credentials = {
  database: Database;
  /** `STEWARD_API_TOKEN`: the admin user `api`. */
  apiToken?: string;
  /** The data dir's secret: the admin user `local`. */
  localSecret?: string;
  /** Cookies get `Secure` when Steward is served over https. */
  secureCookies?: boolean;
};

/** The browser session a request came with (absent for bearer tokens). */
export type SessionRef = { cookie: string; actingAs: string | null };

/** The request's browser session, once `authenticate` has run; undefined for a bearer token. */
export const sessionOf = (res: Response): SessionRef | undefined =>
  res.locals.session as SessionRef | undefined;

/** A request's principal, once `authenticate` has run. */
export const principalOf = (res: Response): Principal => {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw new Error('principalOf called on a route that does not authenticate');
  return principal;
};

const HOW =
  'send `Authorization: Bearer <token>`: `steward token create <you>` makes a personal token; ' +
  "the CLI on Steward's own machine uses the data dir's secret by itself";

export function createAuthenticator({ database, apiToken, localSecret, secureCookies = false }: Credentials) {
  /** Who a bearer token is; undefined for a token that is no one's. */
  async function bearer(token: string): Promise<Principal | undefined> {
    if (apiToken && sameSecret(token, apiToken)) return { user: API_USER, credential: 'api-token' };
    if (localSecret && sameSecret(token, localSecret))
      return { user: LOCAL_USER, credential: 'local-secret' };
    const row = await useToken(database.db, token);
    if (!row) return undefined;
    return {
      user: row.userId,
      credential: 'token',
      tokenId: row.id,
      ...(row.createdBy !== row.userId ? { issuedBy: row.createdBy } : {}),
      ...(row.scope === 'predict' ? { scope: 'predict' } : {}),
    };
  }

  /**
   * The principal of the request's `Authorization: Bearer` token, verified once per request
   * (the browser guard asks first); undefined without one or for a token that is no one's.
   */
  async function bearerOf(req: Request, res: Response): Promise<Principal | undefined> {
    if (!('bearer' in res.locals)) {
      const token = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
      res.locals.bearer = token ? await bearer(token) : undefined;
    }
    return res.locals.bearer as Principal | undefined;
  }

  /**
   * Establishes `res.locals.principal` from the request's credential, or refuses it (401).
   * A browser session must send its CSRF token with every request that changes something.
   */
  async function authenticate(req: Request, res: Response, next: NextFunction) {
    if (req.headers.authorization) {
      const principal = await bearerOf(req, res);
      if (!principal) throw new StewardError('UNAUTHORIZED', `wrong or revoked token; ${HOW}`);
      if (principal.scope === 'predict') {
        throw new StewardError(
          'FORBIDDEN',
          `token ${principal.tokenId} is limited to the prediction endpoints (/v1/models, /v2); use a personal token here`,
        );
      }
      res.locals.principal = principal;
      return next();
    }
    const cookie = cookiesOf(req)[SESSION_COOKIE];
    const session = cookie ? await findSession(database.db, cookie) : undefined;
    if (!session) throw new StewardError('UNAUTHORIZED', `no credential; ${HOW}`);
    if (isMutating(req) && !sameSecret(String(req.headers['x-csrf-token'] ?? ''), session.csrf)) {
      throw new StewardError('FORBIDDEN', 'missing or wrong X-CSRF-Token for this session; reload the page');
    }
    res.locals.principal = {
      user: session.userId,
      credential: 'session',
      ...(session.tokenId ? { tokenId: session.tokenId } : {}),
    } satisfies Principal;
    res.locals.csrf = session.csrf;
    res.locals.session = {
      cookie: cookie as string,
      actingAs: session.actingAs ?? null,
    } satisfies SessionRef;
    next();
  }

  /**
   * The start URL (`/?token=…`): a valid token becomes an HttpOnly, SameSite=Strict session
   * cookie, and the browser is sent to the same address without the token. False when the
   * request carries no token.
   */
  async function exchange(req: Request, res: Response): Promise<boolean> {
    const token = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (!token) return false;
    // A link another site sends the browser to would sign the person in as someone else
    // (login CSRF): only a link typed, pasted or opened from outside the browser, or one of ours.
    const from = req.headers['sec-fetch-site'];
    if (from !== undefined && from !== 'none' && from !== 'same-origin') {
      throw new StewardError('FORBIDDEN', 'open the sign-in link yourself: it cannot come from another site');
    }
    const principal = await bearer(token);
    if (!principal) throw new StewardError('UNAUTHORIZED', `the link's token is wrong or revoked; ${HOW}`);
    if (principal.scope === 'predict') {
      throw new StewardError('FORBIDDEN', 'a token limited to predictions cannot sign in to the console');
    }
    const { cookie } = await createSession(
      database.db,
      { userId: principal.user, ...(principal.tokenId ? { tokenId: principal.tokenId } : {}) },
      SESSION_TTL_MS,
    );
    const rest = new URL(req.originalUrl, 'http://x');
    rest.searchParams.delete('token');
    res.cookie(SESSION_COOKIE, cookie, {
      httpOnly: true,
      sameSite: 'strict',
      secure: secureCookies,
      path: '/',
      maxAge: SESSION_TTL_MS,
    });
    res.redirect(303, `${rest.pathname}${rest.search}`);
    return true;
  }

  return { authenticate, exchange, bearerOf };
}

function cookiesOf(req: Request): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      cookies[part.slice(0, eq).trim()] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // a cookie that is not ours, malformed: ignored
    }
  }
  return cookies;
}

/** Compares two secrets in constant time (hashing first evens out their lengths). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
