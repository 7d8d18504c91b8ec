import { and, asc, desc, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Queryable } from './client.ts';
import { roleGrants, runEvents, runs, stageAttempts } from './schema.ts';

export type RunRow = typeof runs.$inferSelect;
export type RunEventRow = typeof runEvents.$inferSelect;
export type StageAttemptRow = typeof stageAttempts.$inferSelect;

/** A run reference as people type it (`12`, `#12`) or as code holds it (uuid). */
export type RunRef = { number: number } | { id: string };

const whereRef = (ref: RunRef) => ('id' in ref ? eq(runs.id, ref.id) : eq(runs.number, ref.number));

export async function findRun(db: Queryable, ref: RunRef, options: { forUpdate?: boolean } = {}) {
  const query = db.select().from(runs).where(whereRef(ref));
  const [row] = await (options.forUpdate ? query.for('update') : query);
  return row;
}

export async function findRunByRequestKey(db: Queryable, requestKey: string) {
  const [row] = await db.select().from(runs).where(eq(runs.requestKey, requestKey));
  return row;
}

export type RunFilter = { pipeline?: string; states?: string[]; limit?: number };

export function listRuns(db: Queryable, filter: RunFilter = {}) {
  const conditions = [
    filter.pipeline ? eq(runs.pipeline, filter.pipeline) : undefined,
    filter.states?.length ? inArray(runs.state, filter.states) : undefined,
  ].filter((c) => c !== undefined);
  return db
    .select()
    .from(runs)
    .where(conditions.length ? and(...conditions) : undefined)
    .orderBy(desc(runs.number))
    .limit(filter.limit ?? 50);
}

export function timeline(db: Queryable, runId: string) {
  return db.select().from(runEvents).where(eq(runEvents.runId, runId)).orderBy(asc(runEvents.seq));
}

export async function hasEvent(db: Queryable, runId: string, idempotencyKey: string) {
  const [row] = await db
    .select({ seq: runEvents.seq })
    .from(runEvents)
    .where(and(eq(runEvents.runId, runId), eq(runEvents.idempotencyKey, idempotencyKey)));
  return row;
}

export function stageAttemptsOf(db: Queryable, runId: string) {
  return db
    .select()
    .from(stageAttempts)
    .where(eq(stageAttempts.runId, runId))
    .orderBy(asc(stageAttempts.createdAt), asc(stageAttempts.attempt));
}

/** Running attempts whose heartbeat is older than `leaseMs`, by the database's clock (one clock for all machines). */
export function staleAttempts(db: Queryable, leaseMs: number) {
  return db
    .select()
    .from(stageAttempts)
    .where(
      and(
        eq(stageAttempts.status, 'running'),
        lt(stageAttempts.heartbeatAt, sql`now() - make_interval(secs => ${leaseMs / 1000})`),
      ),
    );
}

export function runningAttempts(db: Queryable) {
  return db.select().from(stageAttempts).where(eq(stageAttempts.status, 'running'));
}

/** The roles a user holds: global ('*') and per pipeline. */
export function grantsOf(db: Queryable, userId: string) {
  return db.select().from(roleGrants).where(eq(roleGrants.userId, userId));
}

export async function grantRole(
  db: Queryable,
  grant: { userId: string; role: string; pipeline?: string; grantedBy: string },
): Promise<void> {
  await db
    .insert(roleGrants)
    .values({
      userId: grant.userId,
      role: grant.role,
      pipeline: grant.pipeline ?? '*',
      grantedBy: grant.grantedBy,
    })
    .onConflictDoUpdate({
      target: [roleGrants.userId, roleGrants.pipeline],
      set: { role: grant.role, grantedBy: grant.grantedBy },
    });
}
