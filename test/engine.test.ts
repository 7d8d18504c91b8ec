import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/client.ts';
import { findRun, stageAttemptsOf, timeline } from '../src/db/runs-repo.ts';
import { runs } from '../src/db/schema.ts';
import { manualClock } from '../src/workflows/clock.ts';
import { MACHINE_VERSION } from '../src/workflows/pipeline-run.machine.ts';
import type { ApplyRequest, ApplyResult } from '../src/workflows/run-engine.ts';
import { type Backend, backends } from './helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from './helpers/engine.ts';

const contextOf = (row: { snapshot: unknown } | undefined) =>
  (row?.snapshot as { context?: Record<string, unknown> } | undefined)?.context;

/**
 * Holds a transaction open until `count` other sessions are blocked on a lock (so their
 * statements took their snapshots before this one commits). PGlite has one connection and
 * serialises transactions, so there nothing can overlap and this returns at once.
 */
async function untilBlocked(backend: Backend, database: Database, count: number): Promise<void> {
  if (backend === 'pglite') return;
  for (const t0 = Date.now(); Date.now() - t0 < 10_000; await sleep(5)) {
    const result = (await database.db.execute(
      sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
    )) as unknown as { rows: { n: number | string }[] };
    if (Number(result.rows[0]?.n) >= count) return;
  }
  throw new Error(`fewer than ${count} sessions blocked on a lock after 10 s`);
}

/**
 * One sender applies `request` and keeps its transaction open until every other sender is
 * blocked on the run's row lock; then it commits and they proceed, each having looked up
 * the idempotency key before the first one's event existed.
 */
async function raceSameKey(
  backend: Backend,
  h: EngineHarness,
  request: ApplyRequest,
  senders: number,
): Promise<ApplyResult[]> {
  let locked!: () => void;
  const leaderLocked = new Promise<void>((resolve) => {
    locked = resolve;
  });
  const leader = h.engine.transaction(async (_tx, apply) => {
    const result = await apply(request);
    locked();
    await untilBlocked(backend, h.database, senders - 1);
    return result;
  });
  await leaderLocked;
  const followers = Array.from({ length: senders - 1 }, () => h.engine.apply(request));
  return Promise.all([leader, ...followers]);
}

describe.each(backends())('run engine on %s', (backend) => {
  let h: EngineHarness;
  /** When set, createRun waits here after finding no run for its request key. */
  let afterRequestKeyLookup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    h = await engineHarness(backend, {
      testHooks: { afterRequestKeyLookup: async () => afterRequestKeyLookup?.() },
      specs: [
        demoSpec(),
        demoSpec({ name: 'quorum', approval: { min_approvals: 2 } }),
        demoSpec({ name: 'selfok', approval: { allow_self_approval: true } }),
        demoSpec({ name: 'auto', approval: { required: false } }),
        demoSpec({ name: 'brief', approval: { expires_after: '1s' } }),
        demoSpec({ name: 'fragile', retries: 1 }),
        demoSpec({ name: 'once', retries: 0 }),
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

  it('refuses a request key sent again with another request', async () => {
    const a = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice', requestKey: 'req-2' });
    const again = (request: { pipeline: string; requestedBy: string }) =>
      h.engine.createRun({ ...request, requestKey: 'req-2' });
    await expect(again({ pipeline: 'once', requestedBy: 'alice' })).rejects.toMatchObject({
      code: 'KEY_REUSED',
      message: `the idempotency key "req-2" was already used for run #${a.run.number} (pipeline demo); send this request with a new key`,
    });
    // Steward's own keys name a request whoever sends it (one alert's [Retrain now] pressed by two people).
    expect((await again({ pipeline: 'demo', requestedBy: 'bob' })).run.number).toBe(a.run.number);
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
    // Every click looked up the key before the first one committed: the others find the run
    // deploying, and only a fresh look at the timeline tells them apart from a late click.
    const request = {
      run: { number: row.number },
      event: { type: 'approval.grant' },
      actor: 'bob',
      idempotencyKey: 'slack:same-click',
    } as const;
    const clicks = await raceSameKey(backend, h, request, 8);
    expect(clicks.filter((c) => c.status === 'applied')).toHaveLength(1);
    expect(clicks.filter((c) => c.status === 'duplicate')).toHaveLength(7);
    await h.drain();
    const attempts = await stageAttemptsOf(h.database.db, row.id);
    expect(attempts.filter((a) => a.stage === 'deploy')).toHaveLength(1);
  });

  it('applies a report sent by several senders at once with one key once', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const system = { actor: 'steward', run: { id: run.id } };
    await h.engine.apply({
      ...system,
      event: { type: 'stage.started', stage: 'ingest', attempt: 1, worker: 'w1' },
      idempotencyKey: 'started',
    });
    const before = (await findRun(h.database.db, { id: run.id }))?.version ?? 0;
    // A progress report is still accepted after the first one landed, so each late sender
    // gets as far as inserting its event: the unique key stops it, and the retry reports a duplicate.
    const results = await raceSameKey(
      backend,
      h,
      {
        ...system,
        event: { type: 'stage.progress', stage: 'ingest', attempt: 1, message: 'epoch 1' },
        idempotencyKey: 'progress:ingest:1:1',
      },
      6,
    );
    expect(results.map((r) => r.status).sort()).toEqual([
      'applied',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ]);
    const seqs = new Set(results.map((r) => (r as { seq: number }).seq));
    expect(seqs.size).toBe(1);
    expect((await findRun(h.database.db, { id: run.id }))?.version).toBe(before + 1);
  });

  it('creates one run when many requests with the same key arrive at once', async () => {
    const requests = 10;
    // On PostgreSQL every request looks the key up before any of them inserts (PGlite runs
    // them one after another, so there they cannot overlap).
    let arrived = 0;
    let release!: () => void;
    const allLookedUp = new Promise<void>((resolve) => {
      release = resolve;
    });
    if (backend === 'postgres') {
      afterRequestKeyLookup = () => {
        if (++arrived === requests) release();
        return allLookedUp;
      };
    }
    const results = await Promise.all(
      Array.from({ length: requests }, () =>
        h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice', requestKey: 'req-race' }),
      ),
    ).finally(() => {
      afterRequestKeyLookup = undefined;
    });
    if (backend === 'postgres') expect(arrived).toBe(requests);
    expect(new Set(results.map((r) => r.run.number)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
  });

  it('runs a released attempt again without using up a retry', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'once', requestedBy: 'alice' });
    const report = (event: ApplyRequest['event'], key: string) =>
      h.engine.apply({ run: { id: run.id }, event, actor: 'steward', idempotencyKey: key });
    const release = (stage: 'ingest' | 'checks', attempt: number) =>
      report(
        { type: 'stage.failed', stage, attempt, cause: 'released', error: 'worker w1 shut down' },
        `released:${stage}:${attempt}`,
      );
    // retries: 0, and a worker restarts three times while ingesting.
    for (const attempt of [1, 2, 3]) {
      expect(await release('ingest', attempt)).toMatchObject({ status: 'applied', to: 'queued' });
    }
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('queued');
    await report({ type: 'stage.started', stage: 'ingest', attempt: 4, worker: 'w2' }, 'started:ingest:4');
    expect(await report({ type: 'stage.done', stage: 'ingest', attempt: 4 }, 'done:ingest:4')).toMatchObject({
      status: 'applied',
      to: 'checking',
    });
    const queued = await stageAttemptsOf(h.database.db, run.id);
    expect(queued.map((a) => `${a.stage}#${a.attempt}`)).toEqual([
      'ingest#1',
      'ingest#2',
      'ingest#3',
      'ingest#4',
      'checks#1',
    ]);
    // Releases leave the budget alone: the first real error still fails the run.
    await release('checks', 1);
    const failed = await report(
      { type: 'stage.failed', stage: 'checks', attempt: 2, cause: 'error', error: 'boom' },
      'failed:checks:2',
    );
    expect(failed).toMatchObject({ status: 'applied', to: 'failed' });
    expect((failed as { run: { error: unknown } }).run.error).toEqual({
      stage: 'checks',
      attempt: 2,
      message: 'boom',
    });

    // With retries: 1, a release and then an error still leaves the one retry.
    const { run: fragile } = await h.engine.createRun({ pipeline: 'fragile', requestedBy: 'alice' });
    const fail = (attempt: number, cause: 'released' | 'error') =>
      h.engine.apply({
        run: { id: fragile.id },
        event: { type: 'stage.failed', stage: 'ingest', attempt, cause, error: cause },
        actor: 'steward',
        idempotencyKey: `${cause}:ingest:${attempt}`,
      });
    expect(await fail(1, 'released')).toMatchObject({ status: 'applied', to: 'queued' });
    expect(await fail(2, 'error')).toMatchObject({ status: 'applied', to: 'queued' });
    expect(await fail(3, 'error')).toMatchObject({ status: 'applied', to: 'failed' });
  });

  it('scopes an idempotency key to the action and the actor', async () => {
    const row = await runToGate('quorum');
    const act = (type: 'approval.grant' | 'run.cancel', actor: string) =>
      h.engine.apply({ run: { number: row.number }, event: { type }, actor, idempotencyKey: 'http:K' });
    expect(await act('approval.grant', 'bob')).toMatchObject({ status: 'applied', to: 'awaitingApproval' });
    expect(await act('approval.grant', 'bob')).toMatchObject({ status: 'duplicate' });
    // Someone else reusing the key is not a duplicate of bob's click.
    const carol = await act('approval.grant', 'carol');
    expect(carol).toMatchObject({ status: 'applied', to: 'deploying' });
    // Nor is another action by bob with the same key.
    expect(await act('run.cancel', 'bob')).toMatchObject({ status: 'applied', to: 'cancelled' });
    expect(await act('run.cancel', 'victor')).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
  });

  it('upgrades a run stored by the previous machine version and writes it back upgraded', async () => {
    expect(MACHINE_VERSION).toBe(2);
    const row = await runToGate();
    // What run machine v1 stored: today's snapshot without `released`.
    await h.database.db
      .update(runs)
      .set({ snapshot: sql`${runs.snapshot} #- '{context,released}'`, machineVersion: 1 })
      .where(sql`${runs.id} = ${row.id}`);
    const v1 = await findRun(h.database.db, { id: row.id });
    expect(contextOf(v1)).not.toHaveProperty('released');

    expect(await approve(row.number, 'bob')).toMatchObject({ status: 'applied', to: 'deploying' });
    const upgraded = await findRun(h.database.db, { id: row.id });
    expect(upgraded?.machineVersion).toBe(2);
    expect(contextOf(upgraded)?.released).toEqual({});
    await h.drain();
    expect((await findRun(h.database.db, { id: row.id }))?.state).toBe('deployed');
  });

  it('refuses all but cancel on a run this machine cannot restore, and lets the requester or an operator cancel it', async () => {
    const future = await runToGate();
    await h.database.db.update(runs).set({ machineVersion: 99 }).where(sql`${runs.id} = ${future.id}`);
    const approval = (await approve(future.number, 'bob')) as Extract<ApplyResult, { status: 'refused' }>;
    expect(approval).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
    expect(approval.message).toBe(
      `run #${future.number} cannot take approve here: it was recorded by a newer Steward (run machine v99). ` +
        'Finish it with the Steward version that started it, or cancel it (the requester or an operator can).',
    );
    const cancel = (actor: string, key = `cancel-${actor}`) =>
      h.engine.apply({
        run: { number: future.number },
        event: { type: 'run.cancel', reason: 'stranded' },
        actor,
        idempotencyKey: key,
      });
    expect(await cancel('victor')).toMatchObject({ status: 'refused', code: 'FORBIDDEN' });
    const cancelled = await cancel('alice');
    expect(cancelled).toMatchObject({
      status: 'applied',
      from: 'awaitingApproval',
      to: 'cancelled',
      seq: future.version + 1,
    });
    expect(await cancel('alice')).toMatchObject({ status: 'duplicate', seq: future.version + 1 });
    expect(await cancel('carol')).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
    const after = await findRun(h.database.db, { id: future.id });
    expect(after).toMatchObject({ state: 'cancelled', version: future.version + 1, deadlineAt: null });
    expect(after?.finishedAt).not.toBeNull();
    expect((await timeline(h.database.db, future.id)).at(-1)).toMatchObject({
      type: 'run.cancel',
      actor: 'alice',
      fromState: 'awaitingApproval',
      toState: 'cancelled',
      reason: 'stranded',
    });

    // A snapshot in a state this machine no longer has: an operator can still cancel it.
    const { run: gone } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.database.db
      .update(runs)
      .set({ snapshot: sql`jsonb_set(${runs.snapshot}, '{value}', '"retired"')` })
      .where(sql`${runs.id} = ${gone.id}`);
    const report = await h.engine.apply({
      run: { id: gone.id },
      event: { type: 'stage.started', stage: 'ingest', attempt: 1, worker: 'w' },
      actor: 'steward',
      idempotencyKey: 'started:ingest:1',
    });
    expect(report).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
    expect((report as { message: string }).message).toMatch(
      /state "retired" does not exist in run machine v2/,
    );
    expect(await cancel('carol', 'c')).toMatchObject({ status: 'refused' }); // `future`, already cancelled
    expect(
      await h.engine.apply({
        run: { id: gone.id },
        event: { type: 'run.cancel' },
        actor: 'carol',
        idempotencyKey: 'c',
      }),
    ).toMatchObject({ status: 'applied', from: 'queued', to: 'cancelled' });
  });

  it('ignores a report from a superseded attempt and any event after the run ended', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    const report = (event: ApplyRequest['event'], key: string) =>
      h.engine.apply({ run: { id: run.id }, event, actor: 'steward', idempotencyKey: key });
    await report({ type: 'stage.started', stage: 'ingest', attempt: 1, worker: 'w1' }, 'started:ingest:1');
    await report(
      { type: 'stage.failed', stage: 'ingest', attempt: 1, cause: 'lost', error: 'w1 went silent' },
      'lost:ingest:1',
    );
    const current = await findRun(h.database.db, { id: run.id });
    expect(current?.state).toBe('ingesting');
    // Attempt 2 is current; the zombie that ran attempt 1 finishes after all.
    const stale = await report({ type: 'stage.done', stage: 'ingest', attempt: 1 }, 'done:ingest:1');
    expect(stale).toMatchObject({ status: 'refused', code: 'EVENT_NOT_ALLOWED' });
    expect((stale as { message: string }).message).toBe(
      `run #${run.number} is waiting for ingest attempt 2; a report for ingest attempt 1 is stale and was ignored.`,
    );
    const after = await findRun(h.database.db, { id: run.id });
    expect(after).toMatchObject({
      state: 'ingesting',
      version: current?.version,
      snapshot: current?.snapshot,
    });

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

describe.each(backends())('run engine with a manual clock on %s', (backend) => {
  const T0 = new Date('2030-03-01T09:00:00.000Z');
  const clock = manualClock(T0);
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(backend, { clock, specs: [demoSpec({ approval: { expires_after: '1h' } })] });
  });
  afterAll(() => h?.close());

  it('stamps events with its clock, and an approval at the deadline expires the run', async () => {
    const { run } = await h.engine.createRun({ pipeline: 'demo', requestedBy: 'alice' });
    await h.drain();
    const gate = await findRun(h.database.db, { id: run.id });
    expect(gate).toMatchObject({ state: 'awaitingApproval', createdAt: T0, updatedAt: T0 });
    const deadline = new Date(T0.getTime() + 3_600_000);
    expect(gate?.deadlineAt).toEqual(deadline);
    expect((await timeline(h.database.db, run.id)).map((e) => e.createdAt)).toEqual(
      Array(gate?.version).fill(T0),
    );

    clock.set(deadline);
    const late = await h.engine.apply({
      run: { id: run.id },
      event: { type: 'approval.grant' },
      actor: 'bob',
      idempotencyKey: 'late',
    });
    expect(late).toMatchObject({
      status: 'applied',
      to: 'expired',
      run: { updatedAt: deadline.toISOString(), finishedAt: deadline.toISOString() },
    });
    const last = (await timeline(h.database.db, run.id)).at(-1);
    expect(last).toMatchObject({ type: 'approval.grant', toState: 'expired', createdAt: deadline });
  });
});
