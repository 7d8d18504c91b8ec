import type { LockedRun } from '../db/runs-repo.ts';
import type { RunContext, RunKind, RunState } from './pipeline-run.machine.ts';

/**
 * Why a run was started, when more than "someone asked": a drift alert's [Retrain now] or
 * `on_drift: retrain`. Shown on the run's messages and its approval card.
 */
export type RunCause = {
  type: 'drift';
  /** The alert's number (`drift alert #3`) and where it was posted. */
  alert: number;
  alertId: string;
  channel: string;
  /** The drifted features, most drifted first. */
  features: string[];
  /** Where the new run's training data comes from: the spec's source, or labelled predictions. */
  source: 'source' | 'feedback';
};

/** A run as people and the chat edge see it: the row's columns and the machine's context. */
export type RunView = {
  id: string;
  number: number;
  pipeline: string;
  kind: RunKind;
  state: RunState;
  version: number;
  requestedBy: string;
  params: Record<string, string>;
  cause: RunCause | null;
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

/** The run columns a view is made of. */
export type ViewableRun = Omit<LockedRun, 'machineVersion' | 'seenSeq' | 'lockedAt'>;

export function toView(row: ViewableRun): RunView {
  // Read loosely: a run stored by another machine version may lack any of these.
  const context: Partial<RunContext> =
    (row.snapshot as { context?: Partial<RunContext> } | null)?.context ?? {};
  return {
    id: row.id,
    number: row.number,
    pipeline: row.pipeline,
    kind: row.kind as RunKind,
    state: row.state as RunState,
    version: row.version,
    requestedBy: row.requestedBy,
    params: row.params,
    cause: (row.cause as RunCause | null) ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    deadline: context.deadline ?? null,
    attempts: context.attempts ?? {},
    approvals: context.approvals ?? [],
    rejection: context.rejection ?? null,
    error: context.error ?? null,
    progress: context.progress ?? null,
    summaries: context.summaries ?? {},
  };
}

/** "started by drift alert #3 (tenure, plan drifted)", for the audit trail and chat. */
export function causeText(cause: RunCause): string {
  const features = cause.features.length ? ` (${cause.features.slice(0, 3).join(', ')} drifted)` : '';
  const data = cause.source === 'feedback' ? '; trained on labelled predictions' : '';
  return `started by drift alert #${cause.alert}${features}${data}`;
}
