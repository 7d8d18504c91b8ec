import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { initialTransition, transition } from 'xstate';
import type { Database, Queryable, Tx } from '../db/client.ts';
import {
  appendEvent,
  eventSeq,
  findRunByRequestKey,
  grantsOf,
  type LockedRun,
  lockRunForEvent,
  type RunRef,
  saveTransition,
} from '../db/runs-repo.ts';
import { approvals, pipelines, runs, stageAttempts } from '../db/schema.ts';
import { StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PipelineCatalog } from '../stages/catalog.ts';
import { type PipelineSpec, specHash } from '../stages/spec.ts';
import { explainRefusal } from './explain.ts';
import type { JobQueue } from './jobs.ts';
import {
  type Actor,
  type Effect,
  FINAL_STATES,
  MACHINE_VERSION,
  pipelineRunMachine,
  type RunContext,
  type RunEvent,
  type RunKind,
  type RunPolicy,
  type RunState,
} from './pipeline-run.machine.ts';
import { hasRole, maxRole, Role } from './roles.ts';

export type Clock = { now(): Date };
export const systemClock: Clock = { now: () => new Date() };

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
  /** Applying the same key to the same run twice is a no-op that reports `duplicate`. */
  idempotencyKey: string;
  /** Free text for the audit trail ("why"). */
  reason?: string;
};

export type RunView = {
  id: string;
  number: number;
  pipeline: string;
  kind: RunKind;
  state: RunState;
  version: number;
  requestedBy: string;
  params: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
  deadline: string | null;
  attempts: RunContext['attempts'];
  approvals: RunContext['approvals'];
  rejection: RunContext['rejection'];
  error: RunContext['error'];
  progress: RunContext['progress'];
  summaries: RunContext['summaries'];
};

export type ApplyResult =
  | { status: 'applied'; run: RunView; from: RunState; to: RunState; seq: number }
  | { status: 'duplicate'; run: RunView; seq: number }
  | { status: 'refused'; run: RunView; code: 'FORBIDDEN' | 'EVENT_NOT_ALLOWED'; message: string };

export type CreateRunRequest = {
  pipeline: string;
  params?: Record<string, string>;
  requestedBy: string;
  kind?: RunKind;
  /** Makes creation idempotent (a Slack request id, an HTTP Idempotency-Key). */
  requestKey?: string;
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
  clock: Clock;
  log: Logger;
};

export const isFinal = (state: string): boolean => (FINAL_STATES as readonly string[]).includes(state);

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

function restore(row: Pick<LockedRun, 'number' | 'machineVersion' | 'snapshot'>) {
  if (row.machineVersion !== MACHINE_VERSION) {
    throw new StewardError(
      'EVENT_NOT_ALLOWED',
      `run #${row.number} was recorded by run machine v${row.machineVersion}, this Steward runs v${MACHINE_VERSION}; ` +
        'finish it with the Steward version that started it, or cancel it.',
    );
  }
  return pipelineRunMachine.resolveState(
    row.snapshot as Parameters<typeof pipelineRunMachine.resolveState>[0],
  );
}

/** The run columns a view is made of. */
export type ViewableRun = Omit<LockedRun, 'machineVersion' | 'seenSeq'>;

export function toView(row: ViewableRun): RunView {
  const context = (row.snapshot as { context: RunContext }).context;
  return {
    id: row.id,
    number: row.number,
    pipeline: row.pipeline,
    kind: row.kind as RunKind,
    state: row.state as RunState,
    version: row.version,
    requestedBy: row.requestedBy,
    params: row.params,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    deadline: context.deadline,
    attempts: context.attempts,
    approvals: context.approvals,
    rejection: context.rejection,
    error: context.error,
    progress: context.progress,
    summaries: context.summaries,
  };
}

export function createRunEngine({ database, jobs, catalog, clock, log }: RunEngineDeps): RunEngine {
  const listeners = new Set<(result: Extract<ApplyResult, { status: 'applied' }>) => void>();

  function announce(result: ApplyResult): ApplyResult {
    if (result.status !== 'applied') return result;
    for (const listener of listeners) {
      try {
        listener(result);
      } catch (error) {
        log.warn('run listener failed', { error: (error as Error).message });
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
    const row = await lockRunForEvent(executor, request.run, request.idempotencyKey);
    if (!row) throw notFound(request.run);
    if (row.seenSeq !== null) return { status: 'duplicate', run: toView(row), seq: row.seenSeq };

    const snapshot = restore(row);
    const actor: Actor = { id: request.actor, role: await roleOn(tx, request.actor, row.pipeline) };
    const event = { ...request.event, at: clock.now().toISOString(), actor } as RunEvent;
    if (snapshot.status !== 'active' || !snapshot.can(event)) {
      // The key check above may predate a concurrent sender of the same key (see
      // lockRunForEvent); now that we hold the lock, a fresh look tells a duplicate from a refusal.
      const seq = await eventSeq(executor, row.id, request.idempotencyKey);
      if (seq !== null) return { status: 'duplicate', run: toView(row), seq };
      const refusal = explainRefusal(snapshot, event);
      return { status: 'refused', run: toView(row), ...refusal };
    }
    const [next, actions] = transition(pipelineRunMachine, snapshot, event);
    const from = row.state as RunState;
    const to = next.value as RunState;
    const seq = row.version + 1;
    const now = new Date(event.at);
    const updated = {
      ...row,
      snapshot: pipelineRunMachine.getPersistedSnapshot(next),
      state: to,
      version: seq,
      updatedAt: now,
      finishedAt: isFinal(to) ? now : null,
    };
    const saved = await saveTransition(executor, {
      runId: row.id,
      fromVersion: row.version,
      snapshot: updated.snapshot,
      state: to,
      at: now,
      deadlineAt: next.context.deadline ? new Date(next.context.deadline) : null,
      finishedAt: updated.finishedAt,
    });
    if (!saved)
      throw new StewardError('CONFLICT', `run #${row.number} changed while applying ${event.type}; retry`);
    await appendEvent(executor, {
      runId: row.id,
      seq,
      type: event.type,
      actor: actor.id,
      idempotencyKey: request.idempotencyKey,
      fromState: from,
      toState: to,
      payload: { ...request.event, role: actor.role },
      reason: request.reason ?? ('reason' in event ? (event.reason ?? null) : null),
      createdAt: now,
    });
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
        createdAt: now,
      });
    }
    await enqueueEffects(tx, row.id, actions);
    // Whichever process applies the event, a process connected to chat delivers it.
    await jobs.enqueueNotify(executor, { runId: row.id });
    log.debug('event applied', { run: row.number, type: event.type, from, to, seq });
    return { status: 'applied', run: toView(updated), from, to, seq };
  }

  async function inTransaction<T>(
    fn: (tx: Tx, apply: (request: ApplyRequest) => Promise<ApplyResult>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const applied: ApplyResult[] = [];
      try {
        const value = await database.db.transaction((tx) =>
          fn(tx, async (request) => {
            const result = await applyIn(tx, request);
            applied.push(result);
            return result;
          }),
        );
        for (const result of applied) announce(result);
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
      const result = await database.db.transaction(async (tx) => {
        if (request.requestKey) {
          const existing = await findRunByRequestKey(tx, request.requestKey);
          if (existing) return { run: toView(existing), created: false };
        }
        const role = await roleOn(tx, request.requestedBy, spec.name);
        if (!hasRole(role, 'operator')) {
          throw new StewardError(
            'FORBIDDEN',
            `You need the operator role on ${spec.name} to start a run (you are ${role ?? 'not granted any role'}). ` +
              `Ask an admin: \`/mlops grant @you operator ${spec.name}\`.`,
          );
        }
        // The catalog's current version of the spec, for listing; the run keeps its own copy.
        const hash = specHash(spec);
        await tx
          .insert(pipelines)
          .values({ name: spec.name, spec, specHash: hash })
          .onConflictDoUpdate({
            target: pipelines.name,
            set: { spec, specHash: hash, updatedAt: new Date() },
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
          })
          .returning({ number: runs.number });
        if (!inserted) throw new Error('insert into runs returned nothing');
        const [initial] = initialTransition(pipelineRunMachine, {
          runId: id,
          number: inserted.number,
          pipeline: spec.name,
          kind,
          requestedBy: request.requestedBy,
          params,
          policy: policyOf(spec),
        });
        await tx
          .update(runs)
          .set({ snapshot: pipelineRunMachine.getPersistedSnapshot(initial) })
          .where(eq(runs.id, id));
        submitted = await applyIn(tx, {
          run: { id },
          event: { type: 'run.submitted' },
          actor: request.requestedBy,
          idempotencyKey: 'submit',
          reason: Object.keys(params).length ? `params ${JSON.stringify(params)}` : undefined,
        });
        if (submitted.status !== 'applied') throw new Error(`run #${inserted.number} could not be submitted`);
        return { run: submitted.run, created: true };
      });
      if (submitted) announce(submitted);
      log.info(result.created ? 'run created' : 'run already exists for request', {
        run: result.run.number,
        pipeline: spec.name,
        by: request.requestedBy,
      });
      return result;
    },
  };
}

function isIdempotencyRace(error: unknown): boolean {
  for (
    let e = error as { code?: string; constraint?: string; cause?: unknown } | undefined;
    e;
    e = e.cause as typeof e
  ) {
    if (e.code === '23505' && e.constraint === 'run_events_key') return true;
  }
  return false;
}

export function notFound(ref: RunRef): StewardError {
  return new StewardError(
    'RUN_NOT_FOUND',
    'number' in ref ? `there is no run #${ref.number}` : `there is no run with id ${ref.id}`,
  );
}
