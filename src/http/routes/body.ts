import type { Request } from 'express';
import type { z } from 'zod';
import { StewardError } from '../../errors.ts';

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
 * from the keys Steward makes for chat requests and its own retrains.
 */
export const callerKey = (key: string): string => `http:${key}`;

/** The `Idempotency-Key` header, as a caller's key, when the caller sent one. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' && key ? callerKey(key) : undefined;
}
