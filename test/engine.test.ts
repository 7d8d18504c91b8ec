import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRun, stageAttemptsOf, timeline } from '../src/db/runs-repo.ts';
import type { ApplyResult } from '../src/workflows/run-engine.ts';
import { backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';

describe.each(backends())('run engine on %s', (backend) => {
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(backend, {
      specs: [
        demoSpec(),
        demoSpec({ name: 'quorum', approval: { min_approvals: 2 } }),
        demoSpec({ name: 'selfok', approval: { allow_self_approval: true } }),
        demoSpec({ name: 'auto', approval: { required: false } }),
        demoSpec({ name: 'brief', approval: { expires_after: '1s' } }),
        demoSpec({ name: 'fragile', retries: 1 }),
      ],
    });
  });
  afterAll(() => h?.close());

  const approve = (number: number, actor: string, key = `${actor}-${number}`) =>
    h.engine.apply({ run: { number }, event: { type: 'approval.grant' }, actor, idempotencyKey: key });

  async function runToGate(pipeline = 'demo', params: Record<string, string> = {}, requestedBy = 'alice') {
    const { run } = await h.engine.createRun({ pipeline, requestedBy, params });
    await h.drain();
    const row = await findRun(h.database.db, { number: run.number });
    return row as NonNullable<typeof row>;
  }

  it('takes a run from queued to deployed, and the timeline names every transition and actor', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    expect(run.state).toBe('queued');
    await h.drain();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('awaitingApproval');
    const result = await approve(run.number, 'bob');
    expect(result).toMatchObject({ status: 'applied', from: 'awaitingApproval', to: 'deploying' });
    await h.drain();
    const row = await findRun(h.database.db, { id: run.id });
    expect(row?.state).toBe('deployed');
    expect(row?.finishedAt).not.toBeNull();

    const events = await timeline(h.database.db, run.id);
    const transitions = events
      .filter((e) => e.fromState !== e.toState)
      .map((e) => `${e.fromState}→${e.toState} by ${e.actor}`);
    expect(transitions).toEqual([
      'queued→ingesting by steward',
      'ingesting→checking by steward',
      'checking→featurizing by steward',
      'featurizing→training by steward',
      'training→evaluating by steward',
      'evaluating→awaitingApproval by steward',
      'awaitingApproval→deploying by bob',
      'deploying→deployed by steward',
    ]);
    expect(events[0]).toMatchObject({ type: 'run.submitted', actor: 'alice', seq: 1 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(row?.version).toBe(events.length);
  });

  it('applies a double-clicked Approve once', async () => {
    const row = await runToGate();
    const first = await approve(row.number, 'bob', 'slack:1700000000.1234:bob');
    const second = await approve(row.number, 'bob', 'slack:1700000000.1234:bob');
    expect(first.status).toBe('applied');
    expect(second).toMatchObject({ status: 'duplicate', seq: (first as { seq: number }).seq });
    await h.drain();
    const attempts = await stageAttemptsOf(h.database.db, row.id);
    expect(attempts.filter((a) => a.stage === 'deploy')).toHaveLength(1);
    expect((await findRun(h.database.db, { id: row.id }))?.state).toBe('deployed');
  });

  it('needs two different approvers when min_approvals is 2', async () => {
    const row = await runToGate('quorum');
    expect(await approve(row.number, 'bob')).toMatchObject({ status: 'applied', to: 'awaitingApproval' });
    const again = await approve(row.number, 'bob', 'another-click');
    expect(again).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
    expect((again as { message: string }).message).toMatch(/already approved.*2 approvals.*1 so far/);
    expect(await approve(row.number, 'carol')).toMatchObject({ status: 'applied', to: 'deploying' });
  });

  it("refuses the requester's own approval with the reason, and a viewer's", async () => {
    const row = await runToGate();
    const own = (await approve(row.number, 'alice')) as Extract<ApplyResult, { status: 'refused' }>;
    expect(own).toMatchObject({ status: 'refused', code: 'FORBIDDEN' });
    expect(own.message).toMatch(/four eyes/);
    const viewer = (await approve(row.number, 'victor')) as Extract<ApplyResult, { status: 'refused' }>;
    expect(viewer.message).toMatch(/need the approver role on demo/);
    const after = await findRun(h.database.db, { id: row.id });
    expect(after?.state).toBe('awaitingApproval');
    expect(after?.version).toBe(row.version);
  });

  it('lets the requester approve when the spec allows self-approval, and skips the gate when none is required', async () => {
    const own = await runToGate('selfok', {}, 'bob');
    await approve(own.number, 'bob');
    await h.drain();
    expect((await findRun(h.database.db, { id: own.id }))?.state).toBe('deployed');
    const auto = await runToGate('auto');
    expect(auto.state).toBe('deployed');
  });

  it('explains an event the state does not accept, without changing the run', async () => {
    const row = await runToGate();
    await approve(row.number, 'bob');
    await h.drain();
    const late = (await approve(row.number, 'carol')) as Extract<ApplyResult, { status: 'refused' }>;
    expect(late.message).toBe(
      `run #${row.number} is deployed; approve is possible only while awaiting approval.`,
    );
  });

  it('rejects with a reason and records the decision', async () => {
    const row = await runToGate();
    const result = await h.engine.apply({
      run: { number: row.number },
      event: { type: 'approval.reject', reason: 'AUC dropped on the EU segment' },
      actor: 'carol',
      idempotencyKey: 'reject-1',
    });
    expect(result).toMatchObject({ status: 'applied', to: 'rejected' });
    expect((result as { run: { rejection: unknown } }).run.rejection).toMatchObject({
      by: 'carol',
      reason: 'AUC dropped on the EU segment',
    });
  });

  it('retries a failing stage up to the spec limit, then fails with the error', async () => {
    const recovered = await runToGate('demo', { fail_train: '1' });
    expect(recovered.state).toBe('awaitingApproval');
    const attempts = await stageAttemptsOf(h.database.db, recovered.id);
    expect(attempts.filter((a) => a.stage === 'train').map((a) => a.status)).toEqual(['failed', 'done']);

    const broken = await runToGate('fragile', { fail_checks: '5' });
    expect(broken.state).toBe('failed');
    const view = (await h.engine.apply({
      run: { number: broken.number },
      event: { type: 'run.cancel' },
      actor: 'alice',
      idempotencyKey: 'x',
    })) as Extract<ApplyResult, { status: 'refused' }>;
    expect(view.run.error).toMatchObject({
      stage: 'checks',
      attempt: 2,
      message: 'checks failed on purpose (attempt 2)',
    });
  });

  it('expires an approval at its deadline and fails closed', async () => {
    const row = await runToGate('brief');
    expect(row.deadlineAt).not.toBeNull();
    await sleep(1100);
    await h.drain();
    expect((await findRun(h.database.db, { id: row.id }))?.state).toBe('expired');
    expect((await approve(row.number, 'bob')).status).toBe('refused');
  });

  it('refuses an approval that arrives after the deadline even before the deadline job ran', async () => {
    const row = await runToGate('brief');
    await sleep(1100);
    const late = await approve(row.number, 'bob');
    expect(late).toMatchObject({ status: 'applied', to: 'expired' });
    await h.drain();
    expect(await stageAttemptsOf(h.database.db, row.id)).not.toContainEqual(
      expect.objectContaining({ stage: 'deploy' }),
    );
  });

  it('cancels from any unfinished state, only by the requester or an operator', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const byViewer = await h.engine.apply({
      run: { number: run.number },
      event: { type: 'run.cancel' },
      actor: 'victor',
      idempotencyKey: 'c1',
    });
    expect(byViewer).toMatchObject({ status: 'refused', code: 'FORBIDDEN' });
    const cancelled = await h.engine.apply({
      run: { number: run.number },
      event: { type: 'run.cancel' },
      actor: 'alice',
      idempotencyKey: 'c2',
    });
    expect(cancelled).toMatchObject({ status: 'applied', to: 'cancelled' });
    await h.drain();
    const attempts = await stageAttemptsOf(h.database.db, run.id);
    expect(attempts.map((a) => a.status)).toEqual(['released']);
  });

  it('refuses to start a run for a viewer and names an unknown pipeline with a suggestion', async () => {
    await expect(h.engine.createRun({ pipeline: 'demo', requestedBy: 'victor' })).rejects.toThrow(
      /operator role on demo/,
    );
    await expect(h.engine.createRun({ pipeline: 'dmeo', requestedBy: 'alice' })).rejects.toThrow(
      'pipeline not found: `dmeo`. Did you mean `demo`?',
    );
  });

  it('creates one run per request key', async () => {
    const a = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice', requestKey: 'req-1' });
    const b = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice', requestKey: 'req-1' });
    expect(a.created).toBe(true);
    expect(b).toMatchObject({ created: false, run: { number: a.run.number } });
  });

  it('loses no update when many connections send events to one run at once', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const system = { actor: 'steward', run: { id: run.id } };
    await h.engine.apply({
      ...system,
      event: { type: 'stage.started', stage: 'ingest', attempt: 1, worker: 'w1' },
      idempotencyKey: 'started',
    });
    const before = (await findRun(h.database.db, { id: run.id }))?.version ?? 0;
    // 60 senders, 50 distinct keys: every distinct event lands once, none is lost.
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        h.engine.apply({
          ...system,
          event: { type: 'stage.progress', stage: 'ingest', attempt: 1, message: `step ${i % 50}` },
          idempotencyKey: `progress-${i % 50}`,
        }),
      ),
    );
    const applied = results.filter((r) => r.status === 'applied') as { seq: number }[];
    expect(applied).toHaveLength(50);
    expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(10);
    expect(new Set(applied.map((r) => r.seq)).size).toBe(50);
    const events = await timeline(h.database.db, run.id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect((await findRun(h.database.db, { id: run.id }))?.version).toBe(before + 50);
  });

  it('applies one of many simultaneous clicks with the same key and reports the rest as duplicates', async () => {
    const row = await runToGate();
    const clicks = await Promise.all(
      Array.from({ length: 20 }, () => approve(row.number, 'bob', 'slack:same-click')),
    );
    expect(clicks.filter((c) => c.status === 'applied')).toHaveLength(1);
    expect(clicks.filter((c) => c.status === 'duplicate')).toHaveLength(19);
    await h.drain();
    const attempts = await stageAttemptsOf(h.database.db, row.id);
    expect(attempts.filter((a) => a.stage === 'deploy')).toHaveLength(1);
  });

  it('ignores a report from a superseded attempt and any event after the run ended', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const stale = await h.engine.apply({
      run: { id: run.id },
      event: { type: 'stage.done', stage: 'ingest', attempt: 7 },
      actor: 'steward',
      idempotencyKey: 'stale',
    });
    expect(stale).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
    const cancel = (i: number, actor: string) =>
      h.engine.apply({
        run: { id: run.id },
        event: { type: 'run.cancel' },
        actor,
        idempotencyKey: `cancel-${i}`,
      });
    expect(await cancel(1, 'alice')).toMatchObject({ status: 'applied', to: 'cancelled' });
    expect(await cancel(2, 'bob')).toMatchObject({
      status: 'refused',
      message: `run #${run.number} is cancelled; cancel is possible only while the run has not finished.`,
    });
  });
});
