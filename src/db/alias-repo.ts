import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { Queryable, Tx } from './client.ts';
import { type AliasState, aliasHistory, productionModels, runs } from './schema.ts';

export type { AliasState } from './schema.ts';

/** The channel every change of a production alias is announced on; the payload is the pipeline. */
export const MODELS_CHANNEL = 'steward_models';

export type AliasAction = 'deploy' | 'rollback' | 'promote';

export type AliasChange = {
  action: AliasAction;
  /** The run that made the change; null for `promote`, which is not a run. */
  runId: string | null;
  actor: string;
  credential?: string;
  approvedBy: string[];
};

export type HistoryRow = typeof aliasHistory.$inferSelect & { runNumber: number | null };

/** The pipeline's production alias, or null when nothing was ever deployed. */
export async function aliasOf(db: Queryable, pipeline: string): Promise<AliasState | null> {
  const [row] = await db.select().from(productionModels).where(eq(productionModels.pipeline, pipeline));
  return row ? stateOf(row) : null;
}

function stateOf(row: typeof productionModels.$inferSelect): AliasState {
  return {
    version: row.version,
    runId: row.runId,
    strategy: row.strategy as AliasState['strategy'],
    candidate: row.candidate,
    canaryPercent: row.canaryPercent,
    canaryKey: row.canaryKey,
  };
}

/**
 * Serialises changes to one pipeline's alias for the rest of `tx`, and returns the alias as
 * it is now. Two deployments committing together would otherwise both read the same "before"
 * and one of their undos would be wrong.
 */
export async function lockAlias(tx: Tx, pipeline: string): Promise<AliasState | null> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`production_alias:${pipeline}`}))`);
  return aliasOf(tx, pipeline);
}

/**
 * Moves the alias to `next`, in `tx` (which must hold `lockAlias`): closes the history entry
 * that was current, appends one for this change with `before` as its undo, bumps the alias's
 * generation and tells every serving process. Returns the new entry's id.
 */
export async function setAlias(
  tx: Tx,
  pipeline: string,
  before: AliasState | null,
  next: AliasState,
  change: AliasChange,
  now: Date,
): Promise<number> {
  await tx
    .update(aliasHistory)
    .set({ untilAt: now })
    .where(and(eq(aliasHistory.pipeline, pipeline), isNull(aliasHistory.untilAt)));
  const [entry] = await tx
    .insert(aliasHistory)
    .values({
      pipeline,
      action: change.action,
      strategy: next.strategy,
      version: next.version,
      candidate: next.candidate,
      canaryPercent: next.canaryPercent,
      replaced: before?.version ?? null,
      runId: change.runId,
      actor: change.actor,
      credential: change.credential ?? null,
      approvedBy: change.approvedBy,
      undo: before,
      fromAt: now,
    })
    .returning({ id: aliasHistory.id });
  if (!entry) throw new Error('insert into alias_history returned nothing');
  const values = {
    version: next.version,
    runId: next.runId,
    strategy: next.strategy,
    candidate: next.candidate,
    canaryPercent: next.canaryPercent,
    canaryKey: next.canaryKey,
    deployedAt: now,
    updatedAt: now,
  };
  await tx
    .insert(productionModels)
    .values({ pipeline, ...values })
    .onConflictDoUpdate({
      target: productionModels.pipeline,
      set: { ...values, generation: sql`${productionModels.generation} + 1` },
    });
  await tx.execute(sql`select pg_notify(${MODELS_CHANNEL}, ${pipeline})`);
  return entry.id;
}

/**
 * The change a plain `rollback` undoes: the newest entry no rollback has undone yet that is
 * not itself an undo. Rolling back twice thus walks back through the history instead of
 * flipping between the last two versions.
 */
export async function lastUndoable(db: Queryable, pipeline: string) {
  const [row] = await db
    .select()
    .from(aliasHistory)
    .where(
      and(
        eq(aliasHistory.pipeline, pipeline),
        isNull(aliasHistory.undoneBy),
        sql`not exists (select 1 from ${aliasHistory} u where u.undone_by = ${aliasHistory.id})`,
      ),
    )
    .orderBy(desc(aliasHistory.id))
    .limit(1);
  return row;
}

/** Marks `entry` as undone by the rollback entry `by`. */
export async function markUndone(tx: Tx, entry: number, by: number): Promise<void> {
  await tx.update(aliasHistory).set({ undoneBy: by }).where(eq(aliasHistory.id, entry));
}

/** The alias history, newest first, with the run numbers people know. */
export function historyOf(db: Queryable, pipeline: string, limit = 100): Promise<HistoryRow[]> {
  return db
    .select({
      id: aliasHistory.id,
      pipeline: aliasHistory.pipeline,
      action: aliasHistory.action,
      strategy: aliasHistory.strategy,
      version: aliasHistory.version,
      candidate: aliasHistory.candidate,
      canaryPercent: aliasHistory.canaryPercent,
      replaced: aliasHistory.replaced,
      runId: aliasHistory.runId,
      actor: aliasHistory.actor,
      credential: aliasHistory.credential,
      approvedBy: aliasHistory.approvedBy,
      undo: aliasHistory.undo,
      undoneBy: aliasHistory.undoneBy,
      fromAt: aliasHistory.fromAt,
      untilAt: aliasHistory.untilAt,
      runNumber: runs.number,
    })
    .from(aliasHistory)
    .leftJoin(runs, eq(runs.id, aliasHistory.runId))
    .where(eq(aliasHistory.pipeline, pipeline))
    .orderBy(desc(aliasHistory.id))
    .limit(limit);
}
