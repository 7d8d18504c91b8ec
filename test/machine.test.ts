import { describe, expect, it } from 'vitest';
import { initialTransition, transition } from 'xstate';
import {
  type Actor,
  FINAL_STATES,
  pipelineRunMachine,
  type RunEvent,
  type RunInput,
} from '../src/workflows/pipeline-run.machine.ts';

const input = (
  overrides: Partial<RunInput['policy']['approval']> = {},
  kind: RunInput['kind'] = 'train',
): RunInput => ({
  runId: '00000000-0000-4000-8000-000000000001',
  number: 7,
  pipeline: 'churn',
  kind,
  requestedBy: 'alice',
  params: {},
  policy: {
    maxAttempts: 2,
    approval: {
      required: true,
      approvers: [],
      minApprovals: 1,
      allowSelfApproval: false,
      expiresAfterMs: 60_000,
      ...overrides,
    },
  },
});
const T0 = '2026-01-01T00:00:00.000Z';
const system: Actor = { id: 'steward', role: 'admin' };
const bob: Actor = { id: 'bob', role: 'approver' };

type Body = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'at' | 'actor'> : never) : never;
const ev = (body: Body, actor: Actor = system, at = T0) => ({ ...body, actor, at }) as RunEvent;

function through(events: RunEvent[], start = input()) {
  let [snapshot] = initialTransition(pipelineRunMachine, start);
  const effects: { type: string; params: unknown }[] = [];
  for (const event of events) {
    const [next, actions] = transition(pipelineRunMachine, snapshot, event);
    snapshot = next;
    effects.push(
      ...actions.filter((a) => a.type.startsWith('effect.')).map((a) => ({ type: a.type, params: a.params })),
    );
  }
  return { snapshot, effects };
}

const stageDone = (stage: 'ingest' | 'checks' | 'features' | 'train' | 'evaluate' | 'deploy', attempt = 1) =>
  ev({ type: 'stage.done', stage, attempt });

const toGate = [
  ev({ type: 'run.submitted' }, { id: 'alice', role: 'operator' }),
  ev({ type: 'stage.started', stage: 'ingest', attempt: 1, worker: 'w' }),
  stageDone('ingest'),
  stageDone('checks'),
  stageDone('features'),
  stageDone('train'),
  stageDone('evaluate'),
];

describe('pipeline run machine (pure)', () => {
  it('walks the training path to the approval gate, enqueuing one stage at a time and the deadline', () => {
    const { snapshot, effects } = through(toGate);
    expect(snapshot.value).toBe('awaitingApproval');
    expect(effects).toEqual([
      { type: 'effect.runStage', params: { stage: 'ingest', attempt: 1 } },
      { type: 'effect.runStage', params: { stage: 'checks', attempt: 1 } },
      { type: 'effect.runStage', params: { stage: 'features', attempt: 1 } },
      { type: 'effect.runStage', params: { stage: 'train', attempt: 1 } },
      { type: 'effect.runStage', params: { stage: 'evaluate', attempt: 1 } },
      { type: 'effect.scheduleDeadline', params: { at: '2026-01-01T00:01:00.000Z' } },
    ]);
  });

  it('retries a failed stage until maxAttempts, then fails with the error', () => {
    const failTrain = (attempt: number) =>
      ev({ type: 'stage.failed', stage: 'train', attempt, cause: 'error', error: `boom ${attempt}` });
    const once = through([...toGate.slice(0, 5), failTrain(1)]);
    expect(once.snapshot.value).toBe('training');
    expect(once.effects.at(-1)).toEqual({ type: 'effect.runStage', params: { stage: 'train', attempt: 2 } });
    const twice = through([...toGate.slice(0, 5), failTrain(1), failTrain(2)]);
    expect(twice.snapshot.value).toBe('failed');
    expect(twice.snapshot.context.error).toEqual({ stage: 'train', attempt: 2, message: 'boom 2' });
  });

  it('ignores reports for an attempt that is not the current one', () => {
    const { snapshot } = through([...toGate.slice(0, 5), stageDone('train', 3)]);
    expect(snapshot.value).toBe('training');
  });

  it('decides approvals by role, four eyes, quorum and deadline', () => {
    const gate = through(toGate).snapshot;
    const grant = (actor: Actor, at = T0) =>
      transition(pipelineRunMachine, gate, ev({ type: 'approval.grant' }, actor, at))[0];
    expect(grant({ id: 'alice', role: 'admin' }).value).toBe('awaitingApproval'); // requester
    expect(grant({ id: 'vic', role: 'operator' }).value).toBe('awaitingApproval'); // role too low
    expect(grant(bob).value).toBe('deploying');
    expect(grant(bob, '2026-01-01T00:01:00.000Z').value).toBe('expired'); // at the deadline: fail closed

    const listed = through(toGate, input({ approvers: ['olga'] })).snapshot;
    expect(
      transition(pipelineRunMachine, listed, ev({ type: 'approval.grant' }, { id: 'olga', role: null }))[0]
        .value,
    ).toBe('deploying');
  });

  it('needs min_approvals distinct approvers', () => {
    const { snapshot } = through(
      [...toGate, ev({ type: 'approval.grant' }, bob), ev({ type: 'approval.grant' }, bob)],
      input({ minApprovals: 2 }),
    );
    expect(snapshot.value).toBe('awaitingApproval');
    expect(snapshot.context.approvals.map((a) => a.by)).toEqual(['bob']);
    const [done] = transition(
      pipelineRunMachine,
      snapshot,
      ev({ type: 'approval.grant' }, { id: 'carol', role: 'admin' }),
    );
    expect(done.value).toBe('deploying');
  });

  it('sends deploy-only runs straight to the gate, and past it when no approval is required', () => {
    expect(through([ev({ type: 'run.submitted' })], input({}, 'rollback')).snapshot.value).toBe(
      'awaitingApproval',
    );
    const auto = through([ev({ type: 'run.submitted' })], input({ required: false }, 'deploy'));
    expect(auto.snapshot.value).toBe('deploying');
    expect(auto.effects).toEqual([{ type: 'effect.runStage', params: { stage: 'deploy', attempt: 1 } }]);
  });

  it('cancels from any unfinished state but not after the end', () => {
    const cancel = ev({ type: 'run.cancel' }, { id: 'alice', role: 'operator' });
    expect(through([...toGate.slice(0, 3), cancel]).snapshot.value).toBe('cancelled');

    const failTrain = ev({ type: 'stage.failed', stage: 'train', attempt: 1, cause: 'fatal', error: 'bad' });
    const ended = {
      deployed: through([...toGate, ev({ type: 'approval.grant' }, bob), stageDone('deploy')]).snapshot,
      failed: through([...toGate.slice(0, 5), failTrain]).snapshot,
      rejected: through([...toGate, ev({ type: 'approval.reject' }, bob)]).snapshot,
      expired: through([...toGate, ev({ type: 'approval.expire' }, system, '2026-01-01T00:01:00.000Z')])
        .snapshot,
      cancelled: through([...toGate.slice(0, 3), cancel]).snapshot,
    };
    expect(Object.keys(ended).sort()).toEqual([...FINAL_STATES].sort());
    for (const [state, snapshot] of Object.entries(ended)) {
      expect(snapshot.value).toBe(state);
      expect(snapshot.status).toBe('done');
      const [after, actions] = transition(pipelineRunMachine, snapshot, cancel);
      expect({ state, value: after.value, status: after.status }).toEqual({
        state,
        value: state,
        status: 'done',
      });
      expect(after.context).toEqual(snapshot.context);
      expect(actions).toEqual([]);
    }
  });

  it('hands the engine its effects as actions with resolved params from the pure transition()', () => {
    const [queued] = initialTransition(pipelineRunMachine, input());
    const [submitted, onSubmit] = transition(pipelineRunMachine, queued, ev({ type: 'run.submitted' }));
    // Only the effects come back (assign actions run inside transition()), with params as plain data.
    expect(onSubmit.map(({ type, params }) => ({ type, params }))).toEqual([
      { type: 'effect.runStage', params: { stage: 'ingest', attempt: 1 } },
    ]);
    const [retried, onFail] = transition(
      pipelineRunMachine,
      submitted,
      ev({ type: 'stage.failed', stage: 'ingest', attempt: 1, cause: 'error', error: 'flaky' }),
    );
    expect(retried.context.attempts).toEqual({ ingest: 2 });
    expect(onFail.filter((a) => a.type.startsWith('effect.'))).toEqual([
      expect.objectContaining({ type: 'effect.runStage', params: { stage: 'ingest', attempt: 2 } }),
    ]);

    const evaluating = through(toGate.slice(0, 6)).snapshot;
    expect(evaluating.value).toBe('evaluating');
    const [gate, onEvaluated] = transition(pipelineRunMachine, evaluating, stageDone('evaluate'));
    expect(gate.value).toBe('awaitingApproval');
    expect(onEvaluated.filter((a) => a.type.startsWith('effect.'))).toEqual([
      expect.objectContaining({
        type: 'effect.scheduleDeadline',
        params: { at: '2026-01-01T00:01:00.000Z' },
      }),
    ]);
  });

  it('runs a released attempt again without using up a retry', () => {
    const once = input();
    once.policy.maxAttempts = 1; // retries: 0
    const release = (attempt: number) =>
      ev({ type: 'stage.failed', stage: 'train', attempt, cause: 'released', error: 'worker shut down' });
    const upToTrain = toGate.slice(0, 5);
    const released = through([...upToTrain, release(1), release(2), release(3)], once);
    expect(released.snapshot.value).toBe('training');
    expect(released.snapshot.context.attempts.train).toBe(4);
    expect(released.snapshot.context.released).toEqual({ train: 3 });
    expect(released.effects.slice(-3)).toEqual(
      [2, 3, 4].map((attempt) => ({ type: 'effect.runStage', params: { stage: 'train', attempt } })),
    );

    const proceeds = through([...upToTrain, release(1), release(2), release(3), stageDone('train', 4)], once);
    expect(proceeds.snapshot.value).toBe('evaluating');

    const fails = through(
      [
        ...upToTrain,
        release(1),
        release(2),
        release(3),
        ev({ type: 'stage.failed', stage: 'train', attempt: 4, cause: 'error', error: 'boom' }),
      ],
      once,
    );
    expect(fails.snapshot.value).toBe('failed');
    expect(fails.snapshot.context.error).toEqual({ stage: 'train', attempt: 4, message: 'boom' });

    // With one retry, a release in between leaves that retry in place.
    const twice = through(
      [
        ...upToTrain,
        ev({ type: 'stage.failed', stage: 'train', attempt: 1, cause: 'error', error: 'boom 1' }),
        release(2),
        ev({ type: 'stage.failed', stage: 'train', attempt: 3, cause: 'lost', error: 'gone' }),
      ],
      input(),
    );
    expect(twice.snapshot.value).toBe('failed');
    const retried = through(
      [
        ...upToTrain,
        release(1),
        ev({ type: 'stage.failed', stage: 'train', attempt: 2, cause: 'error', error: 'boom 2' }),
      ],
      input(),
    );
    expect(retried.snapshot.value).toBe('training');
    expect(retried.snapshot.context.attempts.train).toBe(3);
  });
});
