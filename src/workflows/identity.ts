import { z } from 'zod';
import type { Queryable } from '../db/client.ts';
import type { TokenScope } from '../db/credentials-repo.ts';
import { grantsOf } from '../db/runs-repo.ts';
import { StewardError } from '../errors.ts';
import { SYSTEM_ACTOR } from './run-engine.ts';

/**
 * Who a request comes from, as its credential says. Never taken from a request body: a
 * person's API token, `STEWARD_API_TOKEN` (the user `api`), the local secret in the data
 * dir (the user `local`), a browser session made from one of those, Slack's signed user
 * id, or the database credentials themselves (the CLI that opens the database).
 */
export type Principal = {
  user: string;
  credential: 'token' | 'api-token' | 'local-secret' | 'session' | 'database' | 'slack';
  /** The API token's id, when the credential is a personal token (or a session made from one). */
  tokenId?: string;
  /** Who made that token, when it was not its own user. */
  issuedBy?: string;
  /** A token limited to serving (`--scope predict`) may call nothing but the prediction endpoints. */
  scope?: TokenScope;
};

/** What proved who acts, as the audit trail keeps it: "token tok_… made by local", "the data dir's secret". */
export function describeCredential({ credential, tokenId, issuedBy }: Omit<Principal, 'user'>): string {
  const token = tokenId ? `token ${tokenId}${issuedBy ? ` made by ${issuedBy}` : ''}` : 'a token';
  switch (credential) {
    case 'token':
      return token;
    case 'session':
      return tokenId ? `a browser session from ${token}` : 'a browser session';
    case 'api-token':
      return 'STEWARD_API_TOKEN';
    case 'local-secret':
      return "the data dir's secret";
    case 'database':
      return 'the database credentials';
    case 'slack':
      return 'a signed Slack request';
  }
}

/** The user `STEWARD_API_TOKEN` acts as: an admin, for CI and automation. */
export const API_USER = 'api';
/** The user the local secret acts as: the person at this machine's terminal, an admin. */
export const LOCAL_USER = 'local';

/** A user id as Steward accepts one from people: Slack ids, `local`, `cli:me@host`, e-mail-like names. */
export const UserId = z
  .string()
  .min(1, 'a user id cannot be empty')
  .max(100, 'a user id is at most 100 characters')
  .regex(/^[\w.:@+-]+$/, 'a user id is letters, digits and _ . : @ + -')
  .refine((id) => id.toLowerCase() !== SYSTEM_ACTOR, {
    message: `\`${SYSTEM_ACTOR}\` is Steward's own identity and cannot be claimed, granted or given a token`,
  });

/** Refuses a user id that is malformed or is Steward's own. */
export function claimable(userId: string): string {
  const parsed = UserId.safeParse(userId);
  if (!parsed.success) {
    throw new StewardError('FORBIDDEN', `cannot act as \`${userId}\`: ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

export async function isGlobalAdmin(db: Queryable, userId: string): Promise<boolean> {
  return (await grantsOf(db, userId)).some((g) => g.pipeline === '*' && g.role === 'admin');
}

/** Who acts, and through whose credential, when `principal` asks to act `as` someone. */
export type Acting = { actor: string; via?: string };

/**
 * `as` is honoured only for an admin (everywhere), and is then recorded as "as via
 * principal"; from anyone else it is refused. The system actor is never an answer.
 */
export async function actingAs(db: Queryable, principal: Principal, as: string | undefined): Promise<Acting> {
  const self = claimable(principal.user);
  if (as === undefined || as === self) return { actor: self };
  const other = claimable(as);
  if (!(await isGlobalAdmin(db, self))) {
    throw new StewardError(
      'FORBIDDEN',
      `only an admin can act for someone else; you are ${self}. Leave out --as (REST: "as") to act as yourself.`,
    );
  }
  return { actor: other, via: self };
}
