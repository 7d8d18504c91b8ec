import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, gt, isNull, lt, or } from 'drizzle-orm';
import type { Queryable } from './client.ts';
import { apiTokens, sessions } from './schema.ts';

/** SHA-256, hex: what is stored of a token or a session cookie. */
export const digest = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new random secret with a readable prefix (`stw_…` for tokens), 256 bits of entropy. */
export const newSecret = (prefix: string): string => `${prefix}${randomBytes(32).toString('base64url')}`;

export type TokenRow = Omit<typeof apiTokens.$inferSelect, 'hash'>;

/** What a token may be used for: everything its user may do, or only the serving endpoints. */
export const TOKEN_SCOPES = ['all', 'predict'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

const tokenColumns = {
  id: apiTokens.id,
  userId: apiTokens.userId,
  name: apiTokens.name,
  scope: apiTokens.scope,
  createdBy: apiTokens.createdBy,
  createdAt: apiTokens.createdAt,
  lastUsedAt: apiTokens.lastUsedAt,
  revokedAt: apiTokens.revokedAt,
};

/** Stores a new token for `userId`; returns its row and the token itself, which is never stored. */
export async function createToken(
  db: Queryable,
  request: { userId: string; name: string; createdBy: string; scope?: TokenScope },
): Promise<{ row: TokenRow; token: string }> {
  const token = newSecret('stw_');
  const id = `tok_${randomBytes(6).toString('hex')}`;
  const [row] = await db
    .insert(apiTokens)
    .values({ id, ...request, hash: digest(token) })
    .returning(tokenColumns);
  if (!row) throw new Error('insert into api_tokens returned nothing');
  return { row, token };
}

/** The live token whose secret is `token`, marking it used; undefined for a wrong or revoked one. */
export async function useToken(db: Queryable, token: string): Promise<TokenRow | undefined> {
  const [row] = await db
    .update(apiTokens)
    .set({ lastUsedAt: new Date() })
    .where(and(eq(apiTokens.hash, digest(token)), isNull(apiTokens.revokedAt)))
    .returning(tokenColumns);
  return row;
}

export function listTokens(db: Queryable, userId?: string): Promise<TokenRow[]> {
  return db
    .select(tokenColumns)
    .from(apiTokens)
    .where(userId ? eq(apiTokens.userId, userId) : undefined)
    .orderBy(asc(apiTokens.createdAt));
}

export async function findToken(db: Queryable, id: string): Promise<TokenRow | undefined> {
  const [row] = await db.select(tokenColumns).from(apiTokens).where(eq(apiTokens.id, id));
  return row;
}

/** Revokes a token; false when there is no live token with that id. */
export async function revokeToken(db: Queryable, id: string): Promise<boolean> {
  const revoked = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return revoked.length > 0;
}

export type SessionRow = {
  userId: string;
  tokenId: string | null;
  csrf: string;
  expiresAt: Date;
  /** The console's demo persona this session acts as, if one was chosen. */
  actingAs?: string | null;
};

/** A browser session for `userId`; returns the cookie value, of which only a digest is stored. */
export async function createSession(
  db: Queryable,
  { userId, tokenId }: { userId: string; tokenId?: string },
  ttlMs: number,
): Promise<{ cookie: string; session: SessionRow }> {
  const cookie = newSecret('');
  const session = {
    userId,
    tokenId: tokenId ?? null,
    csrf: randomBytes(24).toString('base64url'),
    expiresAt: new Date(Date.now() + ttlMs),
  };
  // Expired sessions are removed as new ones are made.
  await db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
  await db.insert(sessions).values({ hash: digest(cookie), ...session });
  return { cookie, session };
}

/** The live session whose cookie is `cookie`: not expired, and not made from a token since revoked. */
export async function findSession(db: Queryable, cookie: string): Promise<SessionRow | undefined> {
  const [row] = await db
    .select({
      userId: sessions.userId,
      tokenId: sessions.tokenId,
      csrf: sessions.csrf,
      expiresAt: sessions.expiresAt,
      actingAs: sessions.actingAs,
    })
    .from(sessions)
    .leftJoin(apiTokens, eq(apiTokens.id, sessions.tokenId))
    .where(
      and(
        eq(sessions.hash, digest(cookie)),
        gt(sessions.expiresAt, new Date()),
        or(isNull(sessions.tokenId), isNull(apiTokens.revokedAt)),
      ),
    );
  return row;
}

/** Sets whom the console acts as for the session whose cookie is `cookie` (null: its own user). */
export async function setSessionActingAs(
  db: Queryable,
  cookie: string,
  actingAs: string | null,
): Promise<void> {
  await db
    .update(sessions)
    .set({ actingAs })
    .where(eq(sessions.hash, digest(cookie)));
}
