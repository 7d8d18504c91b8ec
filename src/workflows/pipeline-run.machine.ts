import { and, assign, setup } from 'xstate';
import type { StageName } from '../stages/stage.ts';
import { hasRole, type Role } from './roles.ts';

/**
 * The life of one pipeline run, as a pure declaration. Nothing here does I/O: effects are
 * the `effect.*` actions, which the engine turns into durable jobs, and every decision is
 * a named guard over the event, which carries the actor's role and the time.
 *
 * Bump MACHINE_VERSION whenever a state is renamed or removed or the context changes shape,
 * and add the migration from the previous version to `snapshot-migrations.ts`: snapshots
 * store their version and are upgraded on restore; a snapshot no migration reaches is
 * refused (it can still be cancelled) instead of being restored into a state that does
 * not exist.
 *
 * v2: `released` counts attempts handed back on shutdown, which use up no retry.
 */
export const MACHINE_VERSION = 2;

export { STAGES, type StageName } from '../stages/stage.ts';

export type RunKind = 'train' | 'deploy' | 'rollback';

/**
 * Who sent an event, with the role they hold on this run's pipeline at the moment it is
 * applied. `via` is the credential's user when an admin acted for `id`.
 */
export type Actor = { id: string; role: Role | null; via?: string };

/** Whose credential stands behind an actor: four eyes and quorum count credentials, not names. */
const credentialOf = (actor: { id: string; via?: string }) => actor.via ?? actor.id;

export type ApprovalPolicy = {
  required: boolean;
  /** Users who may approve this pipeline even without the approver role. */
  approvers: string[];
  minApprovals: number;
  allowSelfApproval: boolean;
  expiresAfterMs: number;
};

export type RunPolicy = { maxAttempts: number; approval: ApprovalPolicy };

export type RunInput = {
  runId: string;
  number: number;
  pipeline: string;
  kind: RunKind;
  requestedBy: string;
  /** The credential's user when an admin requested the run for `requestedBy`. */
  requestedVia?: string;
  params: Record<string, string>;
  policy: RunPolicy;
};

export type Decision = { by: string; via?: string; at: string; reason?: string };

export type RunContext = RunInput & {
  /** Attempts started per stage; the current attempt of the current stage is the last one. */
  attempts: Partial<Record<StageName, number>>;
  /** Attempts per stage that a worker released on shutdown; they do not count against `maxAttempts`. */
  released: Partial<Record<StageName, number>>;
  /** Short per-stage summaries for people; full outputs live in `stage_attempts`. */
  summaries: Partial<Record<StageName, unknown>>;
  progress: { stage: StageName; attempt: number; message: string; fraction?: number; at: string } | null;
  approvals: Decision[];
  rejection: Decision | null;
  deadline: string | null;
  error: { stage: StageName | null; message: string; attempt?: number } | null;
};

type Envelope = { at: string; actor: Actor };
type StageRef = { stage: StageName; attempt: number };

export type RunEvent = Envelope &
  (
    | { type: 'run.submitted' }
    | ({ type: 'stage.started'; worker: string } & StageRef)
    | ({ type: 'stage.progress'; message: string; fraction?: number } & StageRef)
    | ({ type: 'stage.done'; summary?: unknown } & StageRef)
    | ({ type: 'stage.failed'; error: string; cause: StageFailureCause } & StageRef)
    | { type: 'approval.grant' }
    | { type: 'approval.reject'; reason?: string }
    | { type: 'approval.expire' }
    | { type: 'run.cancel'; reason?: string }
  );
export type RunEventType = RunEvent['type'];

/**
 * Why an attempt failed. `fatal` failures (bad data, a missed threshold) would fail the
 * same way again, so they end the run at once instead of being retried.
 */
export type StageFailureCause = 'error' | 'fatal' | 'lost' | 'released';

/** A side effect the engine must perform, as a durable job, once the transition commits. */
export type Effect =
  | { type: 'effect.runStage'; params: { stage: StageName; attempt: number } }
  | { type: 'effect.scheduleDeadline'; params: { at: string } };

export const FINAL_STATES = ['deployed', 'failed', 'rejected', 'expired', 'cancelled'] as const;
export type RunState =
  | 'queued'
  | 'ingesting'
  | 'checking'
  | 'featurizing'
  | 'training'
  | 'evaluating'
  | 'awaitingApproval'
  | 'deploying'
  | (typeof FINAL_STATES)[number];

/** The stage each working state runs. */
export const STAGE_OF_STATE: Partial<Record<RunState, StageName>> = {
  queued: 'ingest',
  ingesting: 'ingest',
  checking: 'checks',
  featurizing: 'features',
  training: 'train',
  evaluating: 'evaluate',
  deploying: 'deploy',
};

// ---- pure policy, shared by the guards and by the engine's explanations -------------

export type Refusal = { code: 'FORBIDDEN' | 'EVENT_NOT_ALLOWED'; message: string };

export const isPastDeadline = (context: RunContext, at: string): boolean =>
  context.deadline !== null && Date.parse(at) >= Date.parse(context.deadline);

/** Why `actor` may not approve or reject this run now, or null when they may. */
export function decisionRefusal(context: RunContext, actor: Actor): Refusal | null {
  const { approval } = context.policy;
  const requester = context.requestedVia ?? context.requestedBy;
  if (
    !approval.allowSelfApproval &&
    (actor.id === context.requestedBy || credentialOf(actor) === requester)
  ) {
    return {
      code: 'FORBIDDEN',
      message:
        actor.id === context.requestedBy
          ? `You requested run #${context.number}, so someone else must approve or reject it (four eyes).`
          : `${credentialOf(actor)} requested run #${context.number}, so the decision must come from someone else's credential (four eyes); acting as ${actor.id} does not change that.`,
    };
  }
  if (!approval.approvers.includes(actor.id) && !hasRole(actor.role, 'approver')) {
    return {
      code: 'FORBIDDEN',
      message:
        `You need the approver role on ${context.pipeline} to decide run #${context.number}` +
        ` (you are ${actor.role ?? 'not granted any role'}). Ask an admin: \`/mlops grant @you approver ${context.pipeline}\`.`,
    };
  }
  const earlier = context.approvals.find((a) => a.by === actor.id || (a.via ?? a.by) === credentialOf(actor));
  if (earlier) {
    return {
      code: 'EVENT_NOT_ALLOWED',
      message:
        `${earlier.by === actor.id ? 'You' : `${credentialOf(actor)} (as ${earlier.by})`} already approved run #${context.number}; it needs ${approval.minApprovals} approvals from` +
        ` different people, each with their own credential (${context.approvals.length} so far).`,
    };
  }
  return null;
}

/** Why `actor` may not cancel this run, or null when they may. */
export function cancelRefusal(
  context: Pick<RunContext, 'number' | 'pipeline' | 'requestedBy'>,
  actor: Actor,
): Refusal | null {
  if (actor.id === context.requestedBy || hasRole(actor.role, 'operator')) return null;
  return {
    code: 'FORBIDDEN',
    message: `Only the requester (${context.requestedBy}) or an operator on ${context.pipeline} can cancel run #${context.number}.`,
  };
}

const nextAttempt = (context: RunContext, stage: StageName) => (context.attempts[stage] ?? 0) + 1;

/** Attempts at `stage` that ran and failed (or are running): every one started minus those released. */
const failedAttempts = (context: RunContext, stage: StageName) =>
  (context.attempts[stage] ?? 0) - (context.released[stage] ?? 0);

const isStageEvent = (e: RunEvent): e is Extract<RunEvent, StageRef> => 'stage' in e && 'attempt' in e;

/**
 * Every unfinished state can be cancelled. It is declared per state, not on the root, because
 * the pure `transition()` still takes a root transition out of a final state.
 */
const cancellable = { 'run.cancel': { guard: 'canCancel', target: 'cancelled' } } as const;

// ---- the machine ----------------------------------------------------------------

export const pipelineRunMachine = setup({
  types: {
    context: {} as RunContext,
    events: {} as RunEvent,
    input: {} as RunInput,
  },
  guards: {
    isDeployOnly: ({ context }) => context.kind !== 'train',
    needsNoApproval: ({ context }) => !context.policy.approval.required,
    /** The event reports on the attempt the run is waiting for; stale reports (a zombie worker) are ignored. */
    isCurrentAttempt: ({ context, event }, params: { stage: StageName }) =>
      isStageEvent(event) && event.stage === params.stage && event.attempt === context.attempts[params.stage],
    /** A graceful shutdown handed the attempt back: it did not fail, so it is run again without using up a retry. */
    wasReleased: ({ event }) => event.type === 'stage.failed' && event.cause === 'released',
    hasAttemptsLeft: ({ context, event }, params: { stage: StageName }) =>
      failedAttempts(context, params.stage) < context.policy.maxAttempts &&
      !(event.type === 'stage.failed' && event.cause === 'fatal'),
    isPastDeadline: ({ context, event }) => isPastDeadline(context, event.at),
    canDecide: ({ context, event }) => decisionRefusal(context, event.actor) === null,
    completesQuorum: ({ context }) => context.approvals.length + 1 >= context.policy.approval.minApprovals,
    canCancel: ({ context, event }) => cancelRefusal(context, event.actor) === null,
  },
  actions: {
    'effect.runStage': (_, _params: { stage: StageName; attempt: number }) => {},
    'effect.scheduleDeadline': (_, _params: { at: string }) => {},
    countAttempt: assign({
      attempts: ({ context }, params: { stage: StageName }) => ({
        ...context.attempts,
        [params.stage]: nextAttempt(context, params.stage),
      }),
      progress: null,
    }),
    countRelease: assign({
      released: ({ context }, params: { stage: StageName }) => ({
        ...context.released,
        [params.stage]: (context.released[params.stage] ?? 0) + 1,
      }),
    }),
    recordProgress: assign({
      progress: ({ event }) => {
        if (event.type === 'stage.started') {
          return {
            stage: event.stage,
            attempt: event.attempt,
            message: `started on ${event.worker}`,
            at: event.at,
          };
        }
        if (event.type !== 'stage.progress') return null;
        const { stage, attempt, message, fraction, at } = event;
        return fraction === undefined
          ? { stage, attempt, message, at }
          : { stage, attempt, message, fraction, at };
      },
    }),
    recordSummary: assign({
      summaries: ({ context, event }) =>
        event.type === 'stage.done'
          ? { ...context.summaries, [event.stage]: event.summary ?? null }
          : context.summaries,
      progress: null,
    }),
    recordFailure: assign({
      error: ({ event }) =>
        event.type === 'stage.failed'
          ? { stage: event.stage, attempt: event.attempt, message: event.error }
          : { stage: null, message: event.type },
    }),
    openApproval: assign({
      deadline: ({ context, event }) =>
        new Date(Date.parse(event.at) + context.policy.approval.expiresAfterMs).toISOString(),
    }),
    recordApproval: assign({
      approvals: ({ context, event }) => [
        ...context.approvals,
        { by: event.actor.id, ...(event.actor.via ? { via: event.actor.via } : {}), at: event.at },
      ],
    }),
    recordRejection: assign({
      rejection: ({ event }) => ({
        by: event.actor.id,
        ...(event.actor.via ? { via: event.actor.via } : {}),
        at: event.at,
        ...(event.type === 'approval.reject' && event.reason ? { reason: event.reason } : {}),
      }),
    }),
  },
}).createMachine({
  id: 'run',
  initial: 'queued',
  context: ({ input }) => ({
    ...input,
    attempts: {},
    released: {},
    summaries: {},
    progress: null,
    approvals: [],
    rejection: null,
    deadline: null,
    error: null,
  }),
  states: {
    queued: {
      on: {
        ...cancellable,
        'run.submitted': [...toApprovalGate('isDeployOnly'), { actions: startStage('ingest') }],
        'stage.started': {
          guard: { type: 'isCurrentAttempt', params: { stage: 'ingest' } },
          target: 'ingesting',
          actions: 'recordProgress',
        },
        'stage.failed': retryOrFail('ingest'),
      },
    },
    ingesting: workingOn('ingest', { target: 'checking', actions: startStage('checks') }),
    checking: workingOn('checks', { target: 'featurizing', actions: startStage('features') }),
    featurizing: workingOn('features', { target: 'training', actions: startStage('train') }),
    training: workingOn('train', { target: 'evaluating', actions: startStage('evaluate') }),
    evaluating: workingOn('evaluate', toApprovalGate()),
    awaitingApproval: {
      entry: [
        'openApproval',
        { type: 'effect.scheduleDeadline', params: ({ context }) => ({ at: context.deadline ?? '' }) },
      ],
      on: {
        ...cancellable,
        'approval.grant': [
          { guard: 'isPastDeadline', target: 'expired' },
          {
            guard: and(['canDecide', 'completesQuorum']),
            target: 'deploying',
            actions: ['recordApproval', ...startStage('deploy')],
          },
          { guard: 'canDecide', actions: 'recordApproval' },
        ],
        'approval.reject': [
          { guard: 'isPastDeadline', target: 'expired' },
          { guard: 'canDecide', target: 'rejected', actions: 'recordRejection' },
        ],
        'approval.expire': { guard: 'isPastDeadline', target: 'expired' },
      },
    },
    deploying: workingOn('deploy', { target: 'deployed' }),
    deployed: { type: 'final' },
    failed: { type: 'final' },
    rejected: { type: 'final' },
    expired: { type: 'final' },
    cancelled: { type: 'final' },
  },
});

/** Count a new attempt at `stage` and enqueue its job. */
function startStage(stage: StageName) {
  return [
    { type: 'countAttempt', params: { stage } },
    {
      type: 'effect.runStage',
      params: ({ context }: { context: RunContext }) => ({ stage, attempt: context.attempts[stage] ?? 1 }),
    },
  ] as const;
}

/**
 * After the last training stage, or at once for deploy-only runs: the approval gate, or
 * straight to deploying when the spec needs no approval. `when` narrows both ways out.
 */
function toApprovalGate(when?: 'isDeployOnly') {
  return [
    {
      guard: when ? and([when, 'needsNoApproval']) : 'needsNoApproval',
      target: 'deploying',
      actions: startStage('deploy'),
    },
    when ? { guard: when, target: 'awaitingApproval' } : { target: 'awaitingApproval' },
  ] as const;
}

function retryOrFail(stage: StageName) {
  const current = { type: 'isCurrentAttempt', params: { stage } } as const;
  return [
    {
      guard: and([current, 'wasReleased']),
      actions: [{ type: 'countRelease', params: { stage } }, ...startStage(stage)],
    },
    { guard: and([current, { type: 'hasAttemptsLeft', params: { stage } }]), actions: startStage(stage) },
    { guard: current, target: 'failed', actions: 'recordFailure' },
  ] as const;
}

/** A state in which one stage's job is queued or running, with its ways out. */
function workingOn(stage: StageName, onDone: object | readonly object[]) {
  const current = { type: 'isCurrentAttempt', params: { stage } } as const;
  const done = (Array.isArray(onDone) ? onDone : [onDone]).map((t) => ({
    ...t,
    guard: 'guard' in t ? and([current, t.guard as 'needsNoApproval']) : current,
    actions: ['recordSummary', ...((t as { actions?: readonly unknown[] }).actions ?? [])],
  }));
  return {
    on: {
      ...cancellable,
      'stage.started': { guard: current, actions: 'recordProgress' },
      'stage.progress': { guard: current, actions: 'recordProgress' },
      'stage.done': done,
      'stage.failed': retryOrFail(stage),
    },
  } as const;
}
