import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { initialTransition, transition } from 'xstate';
import { CHAT_SURFACES, COALESCE_SECONDS, markOutOfDate } from '../db/chat-outbox.ts';
import type { Database, Queryable, Tx } from '../db/client.ts';
import {
  commitTransition,
  eventSeq,
  findRunByRequestKey,
  grantsOf,
  type LockedRun,
  lockRunForEvent,
  type RunRef,
  reserveRootMessage,
} from '../db/runs-repo.ts';
import { approvals, pipelines, runs, stageAttempts } from '../db/schema.ts';
import { StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PipelineCatalog } from '../stages/catalog.ts';
import { checkSourceRoots } from '../stages/data/data-roots.ts';
import { parseRunParams } from '../stages/run-params.ts';
import { type PipelineSpec, specHash } from '../stages/spec.ts';
import { type Clock, databaseClock } from './clock.ts';
import { explainRefusal, explainUnrestorable } from './explain.ts';
import type { JobQueue } from './jobs.ts';
import {
  type Actor,
  cancelRefusal,
  type Effect,
  FINAL_STATES,
  MACHINE_VERSION,
  pipelineRunMachine,
  type RunEvent,
  type RunKind,
  type RunPolicy,
  type RunState,
} from './pipeline-run.machine.ts';
import { hasRole, maxRole, Role } from './roles.ts';
import { causeText, type RunCause, type RunView, toView } from './run-view.ts';
import { restoreSnapshot } from './snapshot-migrations.ts';

export { type RunCause, type RunView, toView, type ViewableRun } from './run-view.ts';

/** The id Steward itself acts under (workers, deadlines). */
export const SYSTEM_ACTOR = 'steward';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as callers send it; the engine stamps the time and the actor's current role. */
export type EventInput = DistributiveOmit<RunEvent, 'at' | 'actor'>;

export type ApplyRequest = {
  run: RunRef;
  event: EventInput;
  /** Who acts. Their role is looked up when the event is applied, not when a button was drawn. */
  actor: string;
  /** The credential's user, when an admin acts for `actor` (see workflows/identity.ts). */
  via?: string;
  /** What proved who acts ("token tok_… made by local"), kept in the event's payload. */
  credential?: string;
  /**
   * Applying the same key to the same run twice is a no-op that reports `duplicate`. A key
   * is scoped to the event type and the actor: the same key sent with another action, or
   * by someone else, is a different request.
   */
  idempotencyKey: string;
  /** Free text for the audit trail ("why"). */
  reason?: string;
};

export type ApplyResult =
  | { status: 'applied'; run: RunView; from: RunState; to: RunState; seq: number }
  | { status: 'duplicate'; run: RunView; seq: number }
  | {
      status: 'refused';
      run: RunView;
      code: 'FORBIDDEN' | 'EVENT_NOT_ALLOWED';
      message: string;
      /** This Steward cannot restore the run (another machine version wrote it): a newer one may. */
      unrestorable?: true;
    };

export type CreateRunRequest = {
  pipeline: string;
  params?: Record<string, string>;
  requestedBy: string;
  /** The credential's user, when an admin requests the run for `requestedBy`. */
  requestedVia?: string;
  /** What proved who requested it, kept in the submit event's payload. */
  credential?: string;
  kind?: RunKind;
  /** Makes creation idempotent (a Slack request id, an HTTP Idempotency-Key). */
  requestKey?: string;
  /**
   * Where on which chat surface the run was asked for, so its message is posted there (on
   * every other surface it goes to the pipeline's channel). Recorded with the run.
   */
  announceIn?: { surface: string; channel: string };
  /** Why the run was started (a drift alert), recorded with the run. */
  cause?: RunCause;
};

export type RunEngine = {
  createRun(request: CreateRunRequest): Promise<{ run: RunView; created: boolean }>;
  apply(request: ApplyRequest): Promise<ApplyResult>;
  /**
   * Runs `fn` in one transaction in which `apply` applies events, so a caller can write its
   * own rows (a stage's output, a job's completion) atomically with the event.
   */
  transaction<T>(
    fn: (tx: Tx, apply: (request: ApplyRequest) => Promise<ApplyResult>) => Promise<T>,
  ): Promise<T>;
  /** Called after each applied event commits (in this process only). */
  onApplied(listener: (result: Extract<ApplyResult, { status: 'applied' }>) => void): () => void;
};

export type RunEngineDeps = {
  database: Database;
  jobs: JobQueue;
  catalog: PipelineCatalog;
  /** Stamps every event, inside its transaction. @default databaseClock (one clock for all machines) */
  clock?: Clock;
  log: Logger;
  /** Directories a CSV source must lie in for a run to be requested. @default dataRoots(process.env), read per request */
  dataRoots?: readonly string[];
  /** Pauses at the race windows, so tests can make concurrent requests really overlap. Not for production. */
  testHooks?: EngineTestHooks;
  /**
   * Run params the stages read beyond Steward's own, accepted as they are: a custom stages
   * module declares them (its `runParams` export). @default none
   */
  extraParams?: (name: string) => boolean;
  /** Counts each event applied, by type, once it has committed (not duplicates or refusals). */
  metrics?: Pick<Metrics, 'eventsApplied'>;
};

export type EngineTestHooks = {
  /** In createRun's transaction, after the request key was looked up and not found, before the insert. */
  afterRequestKeyLookup?: () => Promise<void>;
};

export const isFinal = (state: string): boolean => (FINAL_STATES as readonly string[]).includes(state);

/** A policy whose approval gate is open: an admin's deploy or rollback. */
const withoutApprovalGate = (policy: RunPolicy): RunPolicy => ({
  ...policy,
  approval: { ...policy.approval, required: false },
});

/** The parts of a spec the run machine needs to decide on its own. */
export function policyOf(spec: PipelineSpec): RunPolicy {
  return {
    maxAttempts: spec.retries + 1,
    approval: {
      required: spec.approval.required,
      approvers: spec.approval.approvers,
      minApprovals: spec.approval.min_approvals,
      allowSelfApproval: spec.approval.allow_self_approval,
      expiresAfterMs: spec.approval.expires_after,
    },
  };
}

/** The role `userId` holds on `pipeline`: the higher of their global and per-pipeline grants. */
export async function roleOn(db: Queryable, userId: string, pipeline: string): Promise<Role | null> {
  if (userId === SYSTEM_ACTOR) return 'admin';
  let role: Role | null = null;
  for (const grant of await grantsOf(db, userId)) {
    if (grant.pipeline === '*' || grant.pipeline === pipeline) role = maxRole(role, Role.parse(grant.role));
  }
  return role;
}

/** The key an event is stored under: the caller's key scoped to the action and the actor. */
const scopedKey = (request: ApplyRequest) =>
  `${request.event.type}:${request.actor}:${request.idempotencyKey}`;

export function createRunEngine({
  database,
  jobs,
  catalog,
  clock = databaseClock,
  log,
  dataRoots,
  testHooks,
  extraParams,
  metrics,
}: RunEngineDeps): RunEngine {
  const listeners = new Set<(result: Extract<ApplyResult, { status: 'applied' }>) => void>();

  function announce(result: ApplyResult, type: RunEvent['type']): ApplyResult {
    if (result.status !== 'applied') return result;
    metrics?.eventsApplied.inc({ type });
    for (const listener of listeners) {
      try {
        listener(result);
      } catch (error) {
        log.warn('run listener failed', { error });
      }
    }
    return result;
  }

  /** Writes the effects of a transition as jobs, in the same transaction. */
  async function enqueueEffects(
    tx: Tx,
    runId: string,
    actions: readonly { type: string; params?: unknown }[],
  ) {
    const executor = database.executorFor(tx);
    for (const action of actions) {
      const effect = action as Effect;
      if (effect.type === 'effect.runStage') {
        const { stage, attempt } = effect.params;
        const jobId = await jobs.enqueueStage(executor, { runId, stage, attempt });
        await tx.insert(stageAttempts).values({ runId, stage, attempt, status: 'queued', jobId });
      } else if (effect.type === 'effect.scheduleDeadline') {
        await jobs.enqueueDeadline(executor, { runId, at: effect.params.at });
      }
    }
  }

  async function applyIn(tx: Tx, request: ApplyRequest): Promise<ApplyResult> {
    const executor = database.executorFor(tx);
    const key = scopedKey(request);
    const row = await lockRunForEvent(executor, request.run, key);
    if (!row) throw notFound(request.run);
    if (row.seenSeq !== null) return { status: 'duplicate', run: toView(row), seq: row.seenSeq };

    const restored = restoreSnapshot(row);
    const actor: Actor = {
      id: request.actor,
      role: await roleOn(tx, request.actor, row.pipeline),
      ...(request.via ? { via: request.via } : {}),
    };
    // The database's clock was read with the lock, in the same round trip. That is the
    // transaction's start: never earlier than the run's last event, so times follow seq.
    const read = clock === databaseClock ? row.lockedAt : await clock.now(tx);
    const at = new Date(Math.max(read.getTime(), row.updatedAt.getTime()));
    const event = { ...request.event, at: at.toISOString(), actor } as RunEvent;
    if (!restored.ok) return cancelUnrestorable(tx, row, request, event, restored.reason);
    const snapshot = restored.snapshot;
    if (snapshot.status !== 'active' || !snapshot.can(event)) {
      // The key check above may predate a concurrent sender of the same key (see
      // lockRunForEvent); now that we hold the lock, a fresh look tells a duplicate from a refusal.
      const seq = await eventSeq(executor, row.id, key);
      if (seq !== null) return { status: 'duplicate', run: toView(row), seq };
      const refusal = explainRefusal(snapshot, event);
      return { status: 'refused', run: toView(row), ...refusal };
    }
    const [next, actions] = transition(pipelineRunMachine, snapshot, event);
    const from = row.state as RunState;
    const to = next.value as RunState;
    const seq = row.version + 1;
    const updated = {
      ...row,
      // Written back as this machine version's, so an upgraded snapshot is migrated once.
      snapshot: pipelineRunMachine.getPersistedSnapshot(next),
      machineVersion: MACHINE_VERSION,
      state: to,
      version: seq,
      updatedAt: at,
      finishedAt: isFinal(to) ? at : null,
    };
    const saved = await commitTransition(
      executor,
      {
        runId: row.id,
        fromVersion: row.version,
        snapshot: updated.snapshot,
        machineVersion: MACHINE_VERSION,
        state: to,
        at,
        deadlineAt: next.context.deadline ? new Date(next.context.deadline) : null,
        finishedAt: updated.finishedAt,
      },
      {
        type: event.type,
        actor: actor.id,
        via: actor.via ?? null,
        idempotencyKey: key,
        fromState: from,
        payload: {
          ...request.event,
          role: actor.role,
          ...(request.credential ? { credential: request.credential } : {}),
        },
        reason: request.reason ?? ('reason' in event ? (event.reason ?? null) : null),
      },
      // Whichever process applies the event, a process connected to chat delivers it.
      { surfaces: CHAT_SURFACES, dueInSeconds: COALESCE_SECONDS },
    );
    if (!saved)
      throw new StewardError('CONFLICT', `run #${row.number} changed while applying ${event.type}; retry`);
    const decided =
      (event.type === 'approval.grant' &&
        next.context.approvals.length > snapshot.context.approvals.length) ||
      (event.type === 'approval.reject' && to === 'rejected');
    if (decided) {
      await tx.insert(approvals).values({
        runId: row.id,
        userId: actor.id,
        decision: event.type === 'approval.grant' ? 'approved' : 'rejected',
        reason: event.type === 'approval.reject' ? (event.reason ?? null) : null,
        createdAt: at,
      });
    }
    await enqueueEffects(tx, row.id, actions);
    log.debug('event applied', { run: row.number, type: event.type, from, to, seq });
    return { status: 'applied', run: toView(updated), from, to, seq };
  }

  /**
   * A run this machine cannot restore still has one way out: cancel, by the requester or an
   * operator, decided from the run row alone. The stored snapshot is kept as it is (for the
   * Steward version that wrote it); the row and the timeline say the run was cancelled.
   */
  async function cancelUnrestorable(
    tx: Tx,
    row: LockedRun,
    request: ApplyRequest,
    event: RunEvent,
    reason: string,
  ): Promise<ApplyResult> {
    const executor = database.executorFor(tx);
    const unrestorable = event.type !== 'run.cancel' || isFinal(row.state);
    const refusal = unrestorable ? explainUnrestorable(row, event, reason) : cancelRefusal(row, event.actor);
    if (refusal) {
      const seq = await eventSeq(executor, row.id, scopedKey(request));
      if (seq !== null) return { status: 'duplicate', run: toView(row), seq };
      return {
        status: 'refused',
        run: toView(row),
        ...refusal,
        ...(unrestorable && event.type !== 'run.cancel' ? { unrestorable: true as const } : {}),
      };
    }
    const at = new Date(event.at);
    const seq = row.version + 1;
    const updated = { ...row, state: 'cancelled', version: seq, updatedAt: at, finishedAt: at };
    const saved = await commitTransition(
      executor,
      {
        runId: row.id,
        fromVersion: row.version,
        snapshot: row.snapshot,
        machineVersion: row.machineVersion,
        state: 'cancelled',
        at,
        deadlineAt: null,
        finishedAt: at,
      },
      {
        type: event.type,
        actor: event.actor.id,
        via: event.actor.via ?? null,
        idempotencyKey: scopedKey(request),
        fromState: row.state,
        payload: { ...request.event, role: event.actor.role, unrestorable: reason },
        reason: request.reason ?? ('reason' in event ? (event.reason ?? null) : null),
      },
      { surfaces: CHAT_SURFACES, dueInSeconds: COALESCE_SECONDS },
    );
    if (!saved) throw new StewardError('CONFLICT', `run #${row.number} changed while cancelling it; retry`);
    log.warn('cancelled a run this machine cannot restore', { run: row.number, reason });
    return { status: 'applied', run: toView(updated), from: row.state as RunState, to: 'cancelled', seq };
  }

  async function inTransaction<T>(
    fn: (tx: Tx, apply: (request: ApplyRequest) => Promise<ApplyResult>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const applied: [ApplyResult, RunEvent['type']][] = [];
      try {
        const value = await database.db.transaction((tx) =>
          fn(tx, async (request) => {
            const result = await applyIn(tx, request);
            applied.push([result, request.event.type]);
            return result;
          }),
        );
        for (const [result, type] of applied) announce(result, type);
        return value;
      } catch (error) {
        // Two senders of the same key raced: the loser's idempotency check ran on a snapshot
        // taken before the winner committed, so its insert hit the unique key. Everything
        // rolled back; running again sees the winner's event and reports a duplicate.
        if (attempt < 3 && isIdempotencyRace(error)) continue;
        throw error;
      }
    }
  }

  return {
    transaction: inTransaction,
    apply: (request) => inTransaction((_tx, apply) => apply(request)),
    onApplied(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async createRun(request) {
      const spec = await catalog.get(request.pipeline);
      const params = request.params ?? {};
      const kind = request.kind ?? 'train';
      let submitted: ApplyResult | undefined;
      const create = () =>
        database.db.transaction(async (tx) => {
          submitted = undefined;
          if (request.requestKey) {
            const existing = await findRunByRequestKey(tx, request.requestKey);
            if (existing) {
              refuseOtherRequest(existing, { ...request, pipeline: spec.name, kind, params });
              return { run: toView(existing), created: false };
            }
            await testHooks?.afterRequestKeyLookup?.();
          }
          const role = await roleOn(tx, request.requestedBy, spec.name);
          if (!hasRole(role, 'operator')) {
            throw new StewardError(
              'FORBIDDEN',
              `You need the operator role on ${spec.name} to start a run (you are ${role ?? 'not granted any role'}). ` +
                `Ask an admin: \`/mlops grant @you operator ${spec.name}\`.`,
            );
          }
          // An admin's deploy or rollback is audited like any run but needs no one's approval.
          const adminDeploy = kind !== 'train' && hasRole(role, 'admin');
          // Refused here, nothing is written: no run, no event, no job (BAD_REQUEST naming the param).
          parseRunParams(spec, kind, params, extraParams ? { extra: extraParams } : {});
          // So is a CSV outside the allowed data roots.
          if (kind === 'train') await checkSourceRoots(spec.source, dataRoots);
          const now = await clock.now(tx);
          // The catalog's current version of the spec, for listing; the run keeps its own copy.
          const hash = specHash(spec);
          await tx
            .insert(pipelines)
            .values({ name: spec.name, spec, specHash: hash, createdAt: now, updatedAt: now })
            .onConflictDoUpdate({
              target: pipelines.name,
              set: { spec, specHash: hash, updatedAt: now },
            });
          const id = randomUUID();
          const [inserted] = await tx
            .insert(runs)
            .values({
              id,
              pipeline: spec.name,
              kind,
              state: 'queued',
              snapshot: {},
              machineVersion: MACHINE_VERSION,
              version: 0,
              requestedBy: request.requestedBy,
              requestKey: request.requestKey ?? null,
              params,
              spec,
              cause: request.cause ?? null,
              createdAt: now,
              updatedAt: now,
            })
            .returning({ number: runs.number });
          if (!inserted) throw new Error('insert into runs returned nothing');
          const [initial] = initialTransition(pipelineRunMachine, {
            runId: id,
            number: inserted.number,
            pipeline: spec.name,
            kind,
            requestedBy: request.requestedBy,
            ...(request.requestedVia ? { requestedVia: request.requestedVia } : {}),
            params,
            policy: adminDeploy ? withoutApprovalGate(policyOf(spec)) : policyOf(spec),
          });
          await tx
            .update(runs)
            .set({ snapshot: pipelineRunMachine.getPersistedSnapshot(initial) })
            .where(eq(runs.id, id));
          if (request.announceIn) await reserveRootMessage(tx, { runId: id, ...request.announceIn });
          await markOutOfDate(database.executorFor(tx), id, 0);
          submitted = await applyIn(tx, {
            run: { id },
            event: { type: 'run.submitted' },
            actor: request.requestedBy,
            ...(request.requestedVia ? { via: request.requestedVia } : {}),
            ...(request.credential ? { credential: request.credential } : {}),
            idempotencyKey: 'submit',
            reason:
              [
                request.cause ? causeText(request.cause) : '',
                Object.keys(params).length ? `params ${JSON.stringify(params)}` : '',
                adminDeploy ? `an admin's ${kind}: no approval gate` : '',
              ]
                .filter(Boolean)
                .join('; ') || undefined,
          });
          if (submitted.status !== 'applied')
            throw new Error(`run #${inserted.number} could not be submitted`);
          return { run: submitted.run, created: true };
        });
      let result: Awaited<ReturnType<typeof create>>;
      try {
        result = await create();
      } catch (error) {
        // Two requests with the same key raced past the lookup; the loser's insert hit the
        // unique key once the winner committed. Everything rolled back: looking again finds
        // the winner's run.
        if (!request.requestKey || !isUniqueViolation(error, 'runs_request_key')) throw error;
        result = await create();
      }
      if (submitted) announce(submitted, 'run.submitted');
      log.info(result.created ? 'run created' : 'run already exists for request', {
        run: result.run.number,
        pipeline: spec.name,
        by: request.requestedBy,
      });
      return result;
    },
  };
}

/**
 * A request key names one request: sent again with the same request (by whoever: two
 * people pressing one alert's [Retrain now] share its key) it finds that run; with another
 * pipeline, kind or params it is refused, so a key reused by mistake is not taken for a retry.
 */
function refuseOtherRequest(
  existing: { number: number; pipeline: string; kind: string; params: unknown },
  request: { requestKey?: string; pipeline: string; kind: string; params: unknown },
): void {
  const differences = [
    existing.pipeline !== request.pipeline ? `pipeline ${existing.pipeline}` : '',
    existing.kind !== request.kind ? `a ${existing.kind} run` : '',
    canonicalJson(existing.params) !== canonicalJson(request.params)
      ? `params ${canonicalJson(existing.params)}`
      : '',
  ].filter(Boolean);
  if (differences.length === 0) return;
  // A caller's key as they sent it, without the scope `callerKey` gave it.
  const key = request.requestKey?.replace(/^http:[^:]*:/, '');
  throw new StewardError(
    'KEY_REUSED',
    `the idempotency key ${JSON.stringify(key)} was already used for run #${existing.number} ` +
      `(${differences.join(', ')}); send this request with a new key`,
  );
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value ?? {}, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** A unique-key violation of `constraint`, however deep drizzle wrapped the driver's error. */
function isUniqueViolation(error: unknown, constraint: string): boolean {
  for (
    let e = error as { code?: string; constraint?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === '23505' && e.constraint === constraint) return true;
  }
  return false;
}

const isIdempotencyRace = (error: unknown) => isUniqueViolation(error, 'run_events_key');

export function notFound(ref: RunRef): StewardError {
  return new StewardError(
    'RUN_NOT_FOUND',
    'number' in ref ? `there is no run #${ref.number}` : `there is no run with id ${ref.id}`,
  );
}
