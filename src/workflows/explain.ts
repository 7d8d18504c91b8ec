import { getNextTransitions, type SnapshotFrom } from 'xstate';
import {
  cancelRefusal,
  decisionRefusal,
  type pipelineRunMachine,
  type Refusal,
  type RunEvent,
  type RunState,
  STAGE_OF_STATE,
} from './pipeline-run.machine.ts';

type Snapshot = SnapshotFrom<typeof pipelineRunMachine>;

const STATE_LABEL: Record<RunState, string> = {
  queued: 'queued',
  ingesting: 'ingesting data',
  checking: 'checking data',
  featurizing: 'building features',
  training: 'training',
  evaluating: 'evaluating',
  awaitingApproval: 'awaiting approval',
  deploying: 'deploying',
  deployed: 'deployed',
  failed: 'failed',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'cancelled',
};

export const stateLabel = (state: string): string => STATE_LABEL[state as RunState] ?? state;

const ACTION: Record<RunEvent['type'], { verb: string; when: string }> = {
  'run.submitted': { verb: 'submit', when: 'queued' },
  'stage.started': { verb: 'a stage report', when: 'the run is in that stage' },
  'stage.progress': { verb: 'a stage report', when: 'the run is in that stage' },
  'stage.done': { verb: 'a stage report', when: 'the run is in that stage' },
  'stage.failed': { verb: 'a stage report', when: 'the run is in that stage' },
  'approval.grant': { verb: 'approve', when: 'awaiting approval' },
  'approval.reject': { verb: 'reject', when: 'awaiting approval' },
  'approval.expire': { verb: 'expire', when: 'awaiting approval' },
  'run.cancel': { verb: 'cancel', when: 'the run has not finished' },
};

/** Says why the machine did not accept `event` in `snapshot`, in words a person can act on. */
export function explainRefusal(snapshot: Snapshot, event: RunEvent): Refusal {
  const state = snapshot.value as RunState;
  const { context } = snapshot;
  const handled =
    snapshot.status === 'active' && getNextTransitions(snapshot).some((t) => t.eventType === event.type);
  const { verb, when } = ACTION[event.type];
  if (!handled) {
    return {
      code: 'EVENT_NOT_ALLOWED',
      message: `run #${context.number} is ${stateLabel(state)}; ${verb} is possible only while ${when}.`,
    };
  }
  switch (event.type) {
    case 'approval.grant':
    case 'approval.reject':
      return decisionRefusal(context, event.actor) ?? unexpected(context.number, verb);
    case 'run.cancel':
      return cancelRefusal(context, event.actor) ?? unexpected(context.number, verb);
    case 'approval.expire':
      return {
        code: 'EVENT_NOT_ALLOWED',
        message: `run #${context.number}'s approval does not expire until ${context.deadline}.`,
      };
    case 'stage.started':
    case 'stage.progress':
    case 'stage.done':
    case 'stage.failed': {
      const stage = STAGE_OF_STATE[state];
      return {
        code: 'EVENT_NOT_ALLOWED',
        message:
          `run #${context.number} is waiting for ${stage} attempt ${stage ? context.attempts[stage] : '?'}; ` +
          `a report for ${event.stage} attempt ${event.attempt} is stale and was ignored.`,
      };
    }
    default:
      return unexpected(context.number, verb);
  }
}

/**
 * Why an event was refused on a run this machine cannot restore: only a cancel is possible,
 * and not once the run has finished.
 */
export function explainUnrestorable(
  run: { number: number; state: string },
  event: RunEvent,
  reason: string,
): Refusal {
  const { verb } = ACTION[event.type];
  if (event.type === 'run.cancel') {
    return {
      code: 'EVENT_NOT_ALLOWED',
      message: `run #${run.number} is ${stateLabel(run.state)}; cancel is possible only while the run has not finished.`,
    };
  }
  return {
    code: 'EVENT_NOT_ALLOWED',
    message:
      `run #${run.number} cannot take ${verb} here: ${reason}. ` +
      'Finish it with the Steward version that started it, or cancel it (the requester or an operator can).',
  };
}

const unexpected = (number: number, verb: string): Refusal => ({
  code: 'EVENT_NOT_ALLOWED',
  message: `run #${number} did not accept ${verb} in its current state.`,
});
