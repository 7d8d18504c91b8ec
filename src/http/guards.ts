import type { NextFunction, Request, Response } from 'express';
import { StewardError } from '../errors.ts';

/** The host names Steward answers to without a bearer credential. */
export type HostRules = { hosts: ReadonlySet<string> };

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

/** Loopback names, the public URL's host and `STEWARD_ALLOWED_HOSTS`, lower-cased. */
export function hostRules({
  publicUrl,
  allowedHosts,
}: {
  publicUrl?: string;
  allowedHosts: string[];
}): HostRules {
  // Names only: `Host: steward.internal:8080` matches `steward.internal` whatever the port.
  const names = [...allowedHosts, ...(publicUrl ? [new URL(publicUrl).host] : [])].map(hostnameOf);
  return { hosts: new Set([...LOOPBACK, ...names.filter((h): h is string => h !== undefined)]) };
}

/** `Host: [::1]:3000` → `::1`; `Host: Example.org` → `example.org`. */
export function hostnameOf(host: string | undefined): string | undefined {
  if (!host) return undefined;
  try {
    return new URL(`http://${host}`).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
export const isMutating = (req: Request) => MUTATING.has(req.method);

/**
 * What answers without a bearer credential (the status page, browser sessions)
 * answers only to Steward's own host names, which defeats DNS rebinding (421), and takes
 * changes only from its own origin (403). A valid bearer credential cannot be sent by a web
 * page of another origin without a CORS preflight, which Steward never grants, so such
 * requests are exempt, as are Slack's signature-checked endpoint (Slack may come through a
 * tunnel under any name) and `/healthz` (probes address pods by IP). `verifiedBearer` says
 * whether the request's bearer token is someone's.
 */
export function browserGuard(
  rules: HostRules,
  verifiedBearer: (req: Request, res: Response) => Promise<unknown>,
) {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.path === '/slack/events' || req.path === '/healthz') return next();
    if (req.headers.authorization && (await verifiedBearer(req, res))) return next();
    const host = hostnameOf(req.headers.host);
    if (!host || !rules.hosts.has(host)) {
      throw new StewardError(
        'UNKNOWN_HOST',
        `Steward does not serve the host name ${req.headers.host ?? '(none)'}; add it to STEWARD_ALLOWED_HOSTS if it is Steward's`,
      );
    }
    const origin = req.headers.origin;
    if (isMutating(req) && origin !== undefined && !sameOrigin(origin, req.headers.host ?? '')) {
      throw new StewardError('FORBIDDEN', `requests from ${origin} may not change anything here`);
    }
    next();
  };
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // `Origin: null` (a sandboxed frame, a file) is nobody's own
  }
}

/** Requests that change something carry JSON, and nothing else (no form or text/plain posts). */
export function jsonOnly(req: Request, _res: Response, next: NextFunction) {
  const hasBody =
    Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (req.method === 'POST' || (isMutating(req) && hasBody)) {
    if (!req.is('application/json')) {
      throw new StewardError(
        'UNSUPPORTED_MEDIA_TYPE',
        `send the body as JSON with \`Content-Type: application/json\` (got ${req.headers['content-type'] ?? 'no Content-Type'})`,
      );
    }
  }
  next();
}
