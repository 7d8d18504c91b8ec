import type { LockedRun } from '../db/runs-repo.ts';
import type { RunContext, RunKind, RunState } from './pipeline-run.machine.ts';

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
