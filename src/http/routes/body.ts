import type { Request, Response } from 'express';
import type { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { principalOf } from '../auth.ts';

/** The request body checked against `schema`; every problem is named with its field. */
export function bodyOf<T>(schema: z.ZodType<T>, req: Request): T {
  return checked(schema, req.body ?? {});
}

/** The query string checked against `schema`, the same way. */
export function queryOf<T>(schema: z.ZodType<T>, query: Request['query']): T {
  return checked(schema, query);
}

function checked<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
    throw new StewardError('BAD_REQUEST', `invalid request: ${problems.join('; ')}`);
  }
  return result.data;
}

/**
 * A key the caller chose (the `Idempotency-Key` header, `steward run --key`), kept apart
 * from the keys Steward makes for chat requests and its own retrains, and scoped to the
 * credential's user: one person's key never finds another person's run or event.
 */
export const callerKey = (user: string, key: string): string => `http:${encodeURIComponent(user)}:${key}`;

/** The `Idempotency-Key` header, as the credential's user's key, when the caller sent one. */
export function idempotencyKeyOf(req: Request, res: Response): string | undefined {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' && key ? callerKey(principalOf(res).user, key) : undefined;
}
