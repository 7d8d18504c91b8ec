/**
 * The status words people filter runs by ("failed runs", `/mlops runs churn pending`). They
 * are coarser than the machine's states: nobody asks for runs that are "featurizing", they
 * ask what is running. `STATES_OF_STATUS` turns a word into the states a query selects.
 */
import type { RunState } from '../../workflows/pipeline-run.machine.ts';

export const RUN_STATUSES = [
  'queued',
  'running',
  'awaiting_approval',
  'deployed',
  'failed',
  'rejected',
  'expired',
  'cancelled',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STATES_OF_STATUS: Record<RunStatus, readonly RunState[]> = {
  queued: ['queued'],
  running: ['ingesting', 'checking', 'featurizing', 'training', 'evaluating', 'deploying'],
  awaiting_approval: ['awaitingApproval'],
  deployed: ['deployed'],
  failed: ['failed'],
  rejected: ['rejected'],
  expired: ['expired'],
  cancelled: ['cancelled'],
};

const SYNONYMS: Record<string, RunStatus> = {
  pending: 'awaiting_approval',
  waiting: 'awaiting_approval',
  awaiting: 'awaiting_approval',
  'awaiting-approval': 'awaiting_approval',
  awaitingapproval: 'awaiting_approval',
  unapproved: 'awaiting_approval',
  active: 'running',
  ongoing: 'running',
  'in-progress': 'running',
  in_progress: 'running',
  failing: 'failed',
  canceled: 'cancelled',
  cancelled: 'cancelled',
  aborted: 'cancelled',
  live: 'deployed',
};

/** The canonical status for a word (case-insensitive, synonyms included), or undefined. */
export function toRunStatus(word: string): RunStatus | undefined {
  const lower = word.toLowerCase();
  if ((RUN_STATUSES as readonly string[]).includes(lower)) return lower as RunStatus;
  return SYNONYMS[lower];
}

/** Every word `toRunStatus` accepts, for typo suggestions. */
export const STATUS_WORDS: readonly string[] = [...RUN_STATUSES, ...Object.keys(SYNONYMS)];
