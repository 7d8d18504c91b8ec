import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable, SqlExecutor } from './client.ts';
import {
  chatMessages,
  modelVersions,
  productionModels,
  roleGrants,
  runEvents,
  runs,
  stageAttempts,
} from './schema.ts';

export type RunRow = typeof runs.$inferSelect;
export type RunEventRow = typeof runEvents.$inferSelect;
export type StageAttemptRow = typeof stageAttempts.$inferSelect;

/** A run reference as people type it (`12`, `#12`) or as code holds it (uuid). */
export type RunRef = { number: number } | { id: string };

const whereRef = (ref: RunRef) => ('id' in ref ? eq(runs.id, ref.id) : eq(runs.number, ref.number));

export async function findRun(db: Queryable, ref: RunRef) {
  const [row] = await db.select().from(runs).where(whereRef(ref));
  return row;
}

/** Just a run's state: what a heartbeat needs, without reading its snapshot and spec. */
export async function runState(db: Queryable, runId: string): Promise<string | undefined> {
  const [row] = await db.select({ state: runs.state }).from(runs).where(eq(runs.id, runId));
  return row?.state;
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

export function stageAttemptsOf(db: Queryable, runId: string) {
  return db
    .select()
    .from(stageAttempts)
    .where(eq(stageAttempts.runId, runId))
    .orderBy(asc(stageAttempts.createdAt), asc(stageAttempts.attempt));
}

/**
 * One top-level field of what a stage's finished attempt stored (`curves` of evaluate,
 * say), read inside the database: a train output also holds the whole model, which the
 * caller then never loads. Null when the stage has not finished or stored no such field.
 */
export async function stageOutputField(
  db: Queryable,
  runId: string,
  stage: string,
  field: string,
): Promise<unknown> {
  const [row] = await db
    .select({ value: sql<unknown>`${stageAttempts.output} -> ${field}` })
    .from(stageAttempts)
    .where(
      and(eq(stageAttempts.runId, runId), eq(stageAttempts.stage, stage), eq(stageAttempts.status, 'done')),
    )
    .orderBy(desc(stageAttempts.attempt))
    .limit(1);
  return row?.value ?? null;
}

/** Every grant, by user then pipeline. */
export function listGrants(db: Queryable) {
  return db.select().from(roleGrants).orderBy(asc(roleGrants.userId), asc(roleGrants.pipeline));
}

/** The roles a user holds: global ('*') and per pipeline. */
export function grantsOf(db: Queryable, userId: string) {
  return db.select().from(roleGrants).where(eq(roleGrants.userId, userId));
}

/**
 * Grants a role on a pipeline (or everywhere). With `ifAbsent`, a user who already has a
 * role there keeps it (a grant someone changed since stays as it is).
 */
export async function grantRole(
  db: Queryable,
  grant: { userId: string; role: string; pipeline?: string; grantedBy: string },
  { ifAbsent = false }: { ifAbsent?: boolean } = {},
): Promise<void> {
  const insert = db.insert(roleGrants).values({
    userId: grant.userId,
    role: grant.role,
    pipeline: grant.pipeline ?? '*',
    grantedBy: grant.grantedBy,
  });
  await (ifAbsent
    ? insert.onConflictDoNothing()
    : insert.onConflictDoUpdate({
        target: [roleGrants.userId, roleGrants.pipeline],
        set: { role: grant.role, grantedBy: grant.grantedBy },
      }));
}

// ---- the engine's hot path ------------------------------------------------------
// Applying an event is the engine's inner loop, so its two statements (lock, commit) are plain SQL
// through the transaction's executor: no query building per call, one round trip each,
// and only the columns the engine needs.

/** The columns of a run that applying an event reads, plus whether its idempotency key was seen. */
export type LockedRun = Pick<
  RunRow,
  | 'id'
  | 'number'
  | 'pipeline'
  | 'kind'
  | 'state'
  | 'snapshot'
  | 'machineVersion'
  | 'version'
  | 'requestedBy'
  | 'params'
  | 'createdAt'
  | 'updatedAt'
  | 'finishedAt'
  | 'cause'
> & {
  seenSeq: number | null;
  /** The database's clock, read with the lock: the transaction's `now()` (its start). */
  lockedAt: Date;
};

const LOCK_COLUMNS = `r.id, r.number, r.pipeline, r.kind, r.state, r.snapshot, r.machine_version, r.version,
  r.requested_by, r.params, r.cause, r.created_at, r.updated_at, r.finished_at,
  (extract(epoch from now()) * 1000)::float8 as locked_at_ms,
  (select e.seq from run_events e where e.run_id = r.id and e.idempotency_key = $2) as seen_seq`;
const LOCK_BY_ID = `select ${LOCK_COLUMNS} from runs r where r.id = $1 for update of r`;
const LOCK_BY_NUMBER = `select ${LOCK_COLUMNS} from runs r where r.number = $1 for update of r`;

const asDate = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

/**
 * Locks a run row for the rest of the transaction and reports whether `idempotencyKey` (as
 * the engine scopes it: type, actor and the caller's key) was already applied. Under READ COMMITTED the key check sees the snapshot taken before the
 * lock wait, so a concurrent sender of the same key can slip past it; the unique index
 * `run_events_key` then stops the second insert and the engine retries the transaction.
 */
export async function lockRunForEvent(
  exec: SqlExecutor,
  ref: RunRef,
  idempotencyKey: string,
): Promise<LockedRun | undefined> {
  const { rows } =
    'id' in ref
      ? await exec.executeSql(LOCK_BY_ID, [ref.id, idempotencyKey])
      : await exec.executeSql(LOCK_BY_NUMBER, [ref.number, idempotencyKey]);
  const r = rows[0] as Record<string, unknown> | undefined;
  if (!r) return undefined;
  return {
    id: r.id as string,
    number: Number(r.number),
    pipeline: r.pipeline as string,
    kind: r.kind as string,
    state: r.state as string,
    snapshot: typeof r.snapshot === 'string' ? JSON.parse(r.snapshot) : r.snapshot,
    machineVersion: Number(r.machine_version),
    version: Number(r.version),
    requestedBy: r.requested_by as string,
    params: (typeof r.params === 'string' ? JSON.parse(r.params) : r.params) as Record<string, string>,
    cause: typeof r.cause === 'string' ? JSON.parse(r.cause) : (r.cause ?? null),
    createdAt: asDate(r.created_at),
    updatedAt: asDate(r.updated_at),
    finishedAt: r.finished_at == null ? null : asDate(r.finished_at),
    seenSeq: r.seen_seq == null ? null : Number(r.seen_seq),
    lockedAt: new Date(Number(r.locked_at_ms)),
  };
}

/** The seq of the event applied under `idempotencyKey`, read with a fresh snapshot. */
export async function eventSeq(
  exec: SqlExecutor,
  runId: string,
  idempotencyKey: string,
): Promise<number | null> {
  const { rows } = await exec.executeSql(
    'select seq from run_events where run_id = $1 and idempotency_key = $2',
    [runId, idempotencyKey],
  );
  const row = rows[0] as { seq: unknown } | undefined;
  return row ? Number(row.seq) : null;
}

export type Transition = {
  runId: string;
  fromVersion: number;
  snapshot: unknown;
  /** The machine version the snapshot is written as (an upgraded one is stored upgraded). */
  machineVersion: number;
  state: string;
  at: Date;
  deadlineAt: Date | null;
  finishedAt: Date | null;
};

/**
 * Applies a transition in one statement: the compare-and-set of the run's snapshot, the
 * event appended to `run_events`, and the run's chat messages marked out of date on every
 * surface (see `db/chat-outbox.ts`). Nothing is written when another writer won (false).
 * A repeated idempotency key still fails on `run_events_key`, for the engine to retry.
 */
export async function commitTransition(
  exec: SqlExecutor,
  t: Transition,
  e: Omit<NewRunEvent, 'runId' | 'seq' | 'toState' | 'createdAt'>,
  outbox: { surfaces: readonly string[]; dueInSeconds: number },
): Promise<boolean> {
  const { rows } = await exec.executeSql(COMMIT_TRANSITION, [
    t.runId,
    t.fromVersion,
    JSON.stringify(t.snapshot),
    t.state,
    t.at,
    t.deadlineAt,
    t.finishedAt,
    t.machineVersion,
    e.type,
    e.actor,
    e.idempotencyKey,
    e.fromState ?? null,
    JSON.stringify(e.payload),
    e.reason ?? null,
    outbox.surfaces,
    outbox.dueInSeconds,
    e.via ?? null,
  ]);
  return Number((rows[0] as { saved: unknown } | undefined)?.saved ?? 0) === 1;
}

const COMMIT_TRANSITION = `
  with saved as (
    update runs set snapshot = $3, state = $4, version = $2 + 1, updated_at = $5, deadline_at = $6,
      finished_at = $7, machine_version = $8
    where id = $1 and version = $2
    returning id
  ), event as (
    insert into run_events (run_id, seq, type, actor, via, idempotency_key, from_state, to_state, payload, reason, created_at)
    select id, $2::int + 1, $9::text, $10::text, $17::text, $11::text, $12::text, $4::text, $13::jsonb, $14::text, $5::timestamptz
    from saved
  ), marked as (
    insert into chat_outbox (run_id, surface, due_at)
    select saved.id, surface, now() + make_interval(secs => $16::int)
    from saved, unnest($15::text[]) as surface
    on conflict (run_id, surface) do update
      set generation = chat_outbox.generation + 1, updated_at = now()
  )
  select (select count(*) from saved)::int as saved`;

/** An event row to append; `createdAt` is the engine's clock reading, never the process's. */
export type NewRunEvent = Omit<typeof runEvents.$inferInsert, 'id' | 'createdAt'> & { createdAt: Date };

/** Model versions, newest first, with their pipeline's production alias (version, candidate, split). */
export function listModelVersions(db: Queryable, pipeline?: string) {
  return db
    .select({
      pipeline: modelVersions.pipeline,
      version: modelVersions.version,
      modelType: modelVersions.modelType,
      task: modelVersions.task,
      metrics: modelVersions.metrics,
      datasetHash: modelVersions.datasetHash,
      specHash: modelVersions.specHash,
      runNumber: runs.number,
      createdAt: modelVersions.createdAt,
      productionVersion: productionModels.version,
      strategy: productionModels.strategy,
      candidate: productionModels.candidate,
      canaryPercent: productionModels.canaryPercent,
    })
    .from(modelVersions)
    .innerJoin(runs, eq(runs.id, modelVersions.runId))
    .leftJoin(productionModels, eq(productionModels.pipeline, modelVersions.pipeline))
    .where(pipeline ? eq(modelVersions.pipeline, pipeline) : undefined)
    .orderBy(asc(modelVersions.pipeline), desc(modelVersions.version));
}

/** Removes a user's grant (global when `pipeline` is '*'); returns whether one existed. */
export async function revokeRole(db: Queryable, userId: string, pipeline: string): Promise<boolean> {
  const removed = await db
    .delete(roleGrants)
    .where(and(eq(roleGrants.userId, userId), eq(roleGrants.pipeline, pipeline)))
    .returning({ role: roleGrants.role });
  return removed.length > 0;
}

/** A run's chat messages on one surface (`slack`, `console`). */
export function chatMessagesOf(db: Queryable, runId: string, surface: string) {
  return db
    .select()
    .from(chatMessages)
    .where(and(eq(chatMessages.runId, runId), eq(chatMessages.surface, surface)));
}

/** Where runs are announced when their spec names no channel (specs stored before `channel` existed). */
export const DEFAULT_CHANNEL = '#ml-ops';

/** The chat channel of a run's pipeline, from the spec the run keeps. */
export async function runChannelOf(db: Queryable, runId: string): Promise<string> {
  const [row] = await db
    .select({ channel: sql<string | null>`${runs.spec}->>'channel'` })
    .from(runs)
    .where(eq(runs.id, runId));
  return row?.channel ?? DEFAULT_CHANNEL;
}

/**
 * Reserves a new run's root message on the surface it was asked for, in the channel it was
 * asked in, inside the run's creating transaction; the delivery posts it (`ts` is empty
 * until then). Other surfaces have no reservation and get it in the pipeline's channel.
 */
export async function reserveRootMessage(
  db: Queryable,
  root: { runId: string; surface: string; channel: string },
): Promise<void> {
  await recordChatMessage(db, { ...root, purpose: 'root', ts: '' });
}

/**
 * Fills in the id of a reserved message once it is posted; false when another delivery
 * filled it in first (its message is the one to keep).
 */
export async function setChatMessageTs(
  db: Queryable,
  message: { runId: string; surface: string; purpose: string; channel: string; ts: string },
): Promise<boolean> {
  const updated = await db
    .update(chatMessages)
    .set({ channel: message.channel, ts: message.ts, updatedAt: new Date() })
    .where(
      and(
        eq(chatMessages.runId, message.runId),
        eq(chatMessages.surface, message.surface),
        eq(chatMessages.purpose, message.purpose),
        eq(chatMessages.ts, ''),
      ),
    )
    .returning({ ts: chatMessages.ts });
  return updated.length > 0;
}

/**
 * Remembers which chat message shows what of a run on a surface; the first record for a
 * purpose wins, and false says this one came second.
 */
export async function recordChatMessage(
  db: Queryable,
  message: { runId: string; surface: string; purpose: string; channel: string; ts: string },
): Promise<boolean> {
  const inserted = await db
    .insert(chatMessages)
    .values(message)
    .onConflictDoNothing()
    .returning({ ts: chatMessages.ts });
  return inserted.length > 0;
}
