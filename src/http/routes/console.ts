import { fileURLToPath } from 'node:url';
import express, { type Response, Router } from 'express';
import { type Console, type ConsoleActor, ViewErrors } from '../../bot/console/console.ts';
import type { Database } from '../../db/client.ts';
import { findSession, setSessionActingAs } from '../../db/credentials-repo.ts';
import { StewardError } from '../../errors.ts';
import { describeCredential, isGlobalAdmin } from '../../workflows/identity.ts';
import { principalOf, sessionOf } from '../auth.ts';
import { type PageAuth, signedIn } from './status.ts';

/** The console's page and its modules: plain files, no build step. */
const PAGE_DIR = fileURLToPath(new URL('../console/', import.meta.url));

/** What the page may load and run: its own files only; no inline script or style, no framing. */
export const CONSOLE_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** How often an open event stream gets a comment line, so proxies keep it open. */
const KEEPALIVE_MS = 15_000;

export function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
}

/** `GET /` (the console, for a session the start URL made) and `/console/*` (its files). */
export function consolePageRoutes({ auth }: { auth: PageAuth }): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    pageHeaders(res);
    if (!(await signedIn(auth, req, res))) return;
    res.setHeader('Cache-Control', 'no-store');
    res.sendFile('index.html', { root: PAGE_DIR });
  });
  router.use(
    '/console',
    (_req, res, next) => {
      pageHeaders(res);
      next();
    },
    express.static(PAGE_DIR, { index: false, fallthrough: true, maxAge: 0 }),
  );
  return router;
}

/**
 * `/api/console/*`, behind the API's authentication (a session sends its CSRF token with
 * every change): the page's state, its event stream, and what the person says and clicks.
 */
export function consoleApiRoutes({ console, database }: { console: Console; database: Database }): Router {
  const router = Router();

  async function actorOf(res: Response): Promise<ConsoleActor> {
    const principal = principalOf(res);
    const canSwitch = console.switcher && (await isGlobalAdmin(database.db, principal.user));
    const persona = canSwitch ? sessionOf(res)?.actingAs : undefined;
    const credential = describeCredential(principal);
    return {
      user: principal.user,
      acting: persona ?? principal.user,
      credential: persona ? `${credential}, playing ${persona} in the demo console` : credential,
      canSwitch,
    };
  }

  router.get('/console/state', async (_req, res) => {
    res.json(await console.state(await actorOf(res)));
  });

  router.get('/console/events', async (_req, res) => {
    let closed = false;
    const cleanups: (() => void)[] = [];
    // Registered first: a page that leaves while the actor is looked up leaves nothing behind.
    res.on('close', () => {
      closed = true;
      for (const cleanup of cleanups) cleanup();
    });
    const actor = await actorOf(res);
    if (closed) return;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    // JSON.stringify writes no newline, so each event's data is one `data:` line.
    const send = (event: string, data: unknown) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    cleanups.push(console.live.join({ user: actor.acting, send }));
    // A session that ends (it expired, or its token was revoked) ends its stream too: the
    // page reconnects, is refused, and says so.
    const session = sessionOf(res);
    const keepalive = setInterval(() => {
      void (async () => {
        if (session && !(await findSession(database.db, session.cookie))) return res.end();
        res.write(': keepalive\n\n');
      })().catch(() => res.end());
    }, KEEPALIVE_MS);
    cleanups.push(() => clearInterval(keepalive));
  });

  router.post('/console/messages', async (req, res) => {
    await console.say(await actorOf(res), req.body ?? {});
    res.status(202).json({ ok: true });
  });

  router.post('/console/actions', async (req, res) => {
    res.json({ ok: true, ...(await console.act(await actorOf(res), req.body ?? {})) });
  });

  router.post('/console/views', async (req, res) => {
    try {
      await console.submit(await actorOf(res), req.body ?? {});
    } catch (error) {
      if (!(error instanceof ViewErrors)) throw error;
      res.status(400).json({ error: { code: error.code, message: error.message, errors: error.errors } });
      return;
    }
    res.json({ ok: true });
  });

  router.post('/console/persona', async (req, res) => {
    const session = sessionOf(res);
    if (!session)
      throw new StewardError(
        'BAD_REQUEST',
        'the person switcher needs a browser session (open the start URL)',
      );
    const acting = console.persona(
      await actorOf(res),
      (req.body as { persona?: unknown } | undefined)?.persona,
    );
    await setSessionActingAs(database.db, session.cookie, acting);
    res.json({ ok: true });
  });

  return router;
}
