import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, sql } from 'drizzle-orm';
import type { Database, Tx } from '../db/client.ts';
import { findRun, runningAttempts, runState, stageAttemptsOf, staleAttempts } from '../db/runs-repo.ts';
import { stageAttempts } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { isFatal, type StageName, type StageRequest, type StageResult } from '../stages/stage.ts';
import { noStore, type StageStore } from '../stages/store.ts';
import { DeadlineJob, type JobQueue, NotifyJob, QUEUE, StageJob } from './jobs.ts';
import { type ApplyRequest, type ApplyResult, isFinal, type RunEngine, SYSTEM_ACTOR } from './run-engine.ts';
import { StageAbortedError, type StageExecutor } from './stage-executor.ts';

export type StageWorkerDeps = {
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  executor: StageExecutor;
  /** Brings a run's chat messages up to date (notify jobs); without one they are dropped. */
  notifier?: (runId: string) => Promise<void>;
  /** Loads what stages read and stores what they produce. @default noStore */
  store?: StageStore;
  log: Logger;
  /** Shown in the timeline and the lease ("host:pid"). */
  workerId: string;
  /** Stage attempts this process runs at once. @default 2 */
  concurrency?: number;
  /** A running attempt whose heartbeat is older than this belongs to a dead worker. @default 30_000 */
  leaseMs?: number;
  /** @default leaseMs / 6 */
  heartbeatMs?: number;
  /** @default 250 */
  pollMs?: number;
  /** Progress events per attempt are coalesced to at most one per this interval. @default 1000 */
  progressEveryMs?: number;
};

export type StageWorker = {
  start(): void;
  /**
   * Stops claiming work, lets running attempts finish for up to `graceMs`, then releases
   * the rest: their runs get a new attempt that another worker picks up.
   */
  stop(graceMs?: number): Promise<void>;
  /** One round: reap lost attempts, fire due deadlines, claim and run stage jobs. Resolves when they finish. */
  tick(): Promise<number>;
  /** Marks attempts whose worker stopped heartbeating as lost. `all` reaps every running attempt not ours. */
  reap(all?: boolean): Promise<number>;
};

type Claim = StageJob & { jobId: string };
type Abort = 'shutdown' | 'lost' | 'superseded';

export function createStageWorker(deps: StageWorkerDeps): StageWorker {
  const { database, jobs, engine, executor, log, workerId } = deps;
  const store = deps.store ?? noStore;
  const concurrency = deps.concurrency ?? 2;
  const leaseMs = deps.leaseMs ?? 30_000;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(100, Math.floor(leaseMs / 6));
  const pollMs = deps.pollMs ?? 250;
  const progressEveryMs = deps.progressEveryMs ?? 1000;
  const inFlight = new Map<string, { claim: Claim; controller: AbortController; done: Promise<void> }>();
  let stopping = false;
  let loop: Promise<void> | undefined;
  let lastReap = 0;

  const key = (c: StageJob) => `${c.runId}/${c.stage}/${c.attempt}`;
  const leaseOf = (c: StageJob) =>
    and(
      eq(stageAttempts.runId, c.runId),
      eq(stageAttempts.stage, c.stage),
      eq(stageAttempts.attempt, c.attempt),
    );
  const system = (runId: string, event: ApplyRequest['event'], idempotencyKey: string): ApplyRequest => ({
    run: { id: runId },
    event,
    actor: SYSTEM_ACTOR,
    idempotencyKey,
  });

  /** Claims stage jobs and takes their leases in one transaction: either both happen or neither. */
  async function claim(limit: number): Promise<Claim[]> {
    return database.db.transaction(async (tx) => {
      const executor = database.executorFor(tx);
      const claimed: Claim[] = [];
      for (const job of await jobs.fetch(QUEUE.stage, limit, executor)) {
        const parsed = StageJob.safeParse(job.data);
        if (!parsed.success) {
          log.error('stage job has a malformed payload; failing it', {
            job: job.id,
            issues: parsed.error.issues,
          });
          await jobs.fail(QUEUE.stage, job.id, 'malformed payload', executor);
          continue;
        }
        const [lease] = await tx
          .update(stageAttempts)
          .set({ status: 'running', workerId, jobId: job.id, startedAt: sql`now()`, heartbeatAt: sql`now()` })
          .where(and(leaseOf(parsed.data), eq(stageAttempts.status, 'queued')))
          .returning();
        if (!lease) {
          // The attempt was superseded (lost, released or the run moved on): nothing to do.
          await jobs.complete(QUEUE.stage, job.id, executor);
          continue;
        }
        claimed.push({ ...parsed.data, jobId: job.id });
      }
      return claimed;
    });
  }

  /** Ends a lease and reports the outcome to the run, in one transaction, unless the lease was taken away. */
  async function finish(
    c: Claim,
    status: 'done' | 'failed' | 'released',
    fields: { output?: unknown; error?: string },
    event: ApplyRequest['event'] | undefined,
    persist?: (tx: Tx) => Promise<{ output: unknown; event: ApplyRequest['event'] }>,
  ): Promise<ApplyResult | undefined> {
    return engine.transaction(async (tx: Tx, apply) => {
      if (persist) {
        // Only while we still hold the lease: a lost attempt must not store anything.
        const [held] = await tx
          .select({ status: stageAttempts.status })
          .from(stageAttempts)
          .where(leaseOf(c))
          .for('update');
        if (held?.status === 'running') ({ output: fields.output, event } = await persist(tx));
      }
      const [lease] = await tx
        .update(stageAttempts)
        .set({ status, output: fields.output ?? null, error: fields.error ?? null, finishedAt: sql`now()` })
        .where(and(leaseOf(c), eq(stageAttempts.status, 'running')))
        .returning();
      await jobs.complete(QUEUE.stage, c.jobId, database.executorFor(tx));
      if (!lease || !event) return undefined;
      return apply(system(c.runId, event, `${status}:${c.stage}:${c.attempt}`));
    });
  }

  async function execute(c: Claim, controller: AbortController): Promise<void> {
    const started = await engine.apply(
      system(
        c.runId,
        { type: 'stage.started', stage: c.stage, attempt: c.attempt, worker: workerId },
        `started:${c.stage}:${c.attempt}`,
      ),
    );
    if (started.status === 'refused') {
      log.info('stage attempt no longer wanted', {
        run: started.run.number,
        stage: c.stage,
        reason: started.message,
      });
      await finish(c, 'released', { error: started.message }, undefined);
      return;
    }
    const run = await findRun(database.db, { id: c.runId });
    if (!run) throw new Error(`run ${c.runId} vanished`);
    const inputs: Partial<Record<StageName, unknown>> = {};
    for (const attempt of await stageAttemptsOf(database.db, c.runId)) {
      if (attempt.status === 'done') inputs[attempt.stage as StageName] = attempt.output;
    }
    const request: StageRequest = {
      run: {
        id: run.id,
        number: run.number,
        pipeline: run.pipeline,
        kind: run.kind,
        requestedBy: run.requestedBy,
        params: run.params,
        spec: run.spec,
      },
      stage: c.stage,
      attempt: c.attempt,
      inputs,
    };
    request.artifacts = await store.load(database.db, request);
    const stageLog = log.child({ run: run.number, stage: c.stage, attempt: c.attempt });
    const heartbeat = setInterval(() => void beat(c, controller, stageLog), heartbeatMs);
    let lastProgress = 0;
    let progressCount = 0;
    const t0 = performance.now();
    try {
      stageLog.info('stage started');
      const result = await executor.run(request, {
        signal: controller.signal,
        onProgress(message, fraction) {
          const now = Date.now();
          if (now - lastProgress < progressEveryMs) return;
          lastProgress = now;
          const n = ++progressCount;
          const event = { type: 'stage.progress', stage: c.stage, attempt: c.attempt, message } as const;
          engine
            .apply(
              system(
                c.runId,
                fraction === undefined ? event : { ...event, fraction },
                `progress:${c.stage}:${c.attempt}:${n}`,
              ),
            )
            .catch((error: Error) => stageLog.warn('progress not recorded', { error: error.message }));
        },
      });
      clearInterval(heartbeat);
      const done = (r: StageResult): ApplyRequest['event'] => ({
        type: 'stage.done',
        stage: c.stage,
        attempt: c.attempt,
        summary: r.summary ?? null,
      });
      await finish(c, 'done', { output: result.output ?? null }, done(result), async (tx) => {
        const stored = await store.save(tx, request, result);
        return { output: stored.output ?? null, event: done(stored) };
      });
      stageLog.info('stage done', { ms: Math.round(performance.now() - t0) });
    } catch (error) {
      clearInterval(heartbeat);
      const reason = controller.signal.reason as Abort | undefined;
      if (error instanceof StageAbortedError || reason) {
        if (reason === 'shutdown') {
          await finish(
            c,
            'released',
            { error: 'released: worker shutting down' },
            {
              type: 'stage.failed',
              stage: c.stage,
              attempt: c.attempt,
              cause: 'released',
              error: `worker ${workerId} shut down during the stage; the attempt was released`,
            },
          );
          stageLog.info('stage released on shutdown');
        } else {
          // Lost (the reaper already reported it) or superseded (the run moved on): just let go.
          await finish(c, 'released', { error: `aborted: ${reason}` }, undefined);
          stageLog.info('stage aborted', { reason });
        }
        return;
      }
      const message = (error as Error).message ?? String(error);
      stageLog.warn('stage failed', { error: message });
      await finish(
        c,
        'failed',
        { error: (error as Error).stack ?? message },
        {
          type: 'stage.failed',
          stage: c.stage,
          attempt: c.attempt,
          cause: isFatal(error) ? 'fatal' : 'error',
          error: message,
        },
      );
    }
  }

  /** Renews the lease; aborts the attempt when the lease was taken away or the run ended. */
  async function beat(c: Claim, controller: AbortController, stageLog: Logger): Promise<void> {
    if (controller.signal.aborted) return;
    try {
      const [lease] = await database.db
        .update(stageAttempts)
        .set({ heartbeatAt: sql`now()` })
        .where(and(leaseOf(c), eq(stageAttempts.status, 'running')))
        .returning({ attempt: stageAttempts.attempt });
      if (!lease) return controller.abort('lost' satisfies Abort);
      const state = await runState(database.db, c.runId);
      if (!state || isFinal(state)) controller.abort('superseded' satisfies Abort);
    } catch (error) {
      stageLog.warn('heartbeat failed', { error: (error as Error).message });
    }
  }

  async function reap(all = false): Promise<number> {
    const candidates = all ? await runningAttempts(database.db) : await staleAttempts(database.db, leaseMs);
    let reaped = 0;
    for (const attempt of candidates) {
      const c = { runId: attempt.runId, stage: attempt.stage as StageName, attempt: attempt.attempt };
      if (inFlight.has(key(c))) continue;
      const seconds = Math.round(leaseMs / 1000);
      const error = all
        ? `worker ${attempt.workerId} was gone when ${workerId} started (the data dir lock proves it)`
        : `worker ${attempt.workerId} sent no heartbeat for ${seconds}s; the attempt is presumed lost`;
      const result = await engine.transaction(async (tx, apply) => {
        const [lease] = await tx
          .update(stageAttempts)
          .set({ status: 'lost', error, finishedAt: sql`now()` })
          .where(and(leaseOf(c), eq(stageAttempts.status, 'running')))
          .returning();
        if (!lease) return undefined;
        if (attempt.jobId) await jobs.fail(QUEUE.stage, attempt.jobId, error, database.executorFor(tx));
        return apply(
          system(
            c.runId,
            { type: 'stage.failed', ...c, cause: 'lost', error },
            `lost:${c.stage}:${c.attempt}`,
          ),
        );
      });
      if (result) {
        reaped++;
        log.warn('stage attempt lost', {
          run: result.run.number,
          stage: c.stage,
          attempt: c.attempt,
          worker: attempt.workerId,
        });
      }
    }
    return reaped;
  }

  async function fireDeadlines(): Promise<void> {
    for (const job of await jobs.fetch(QUEUE.deadline, 20)) {
      const parsed = DeadlineJob.safeParse(job.data);
      if (!parsed.success) {
        await jobs.fail(QUEUE.deadline, job.id, 'malformed payload');
        continue;
      }
      try {
        const { runId, at } = parsed.data;
        const result = await engine.apply(system(runId, { type: 'approval.expire' }, `expire:${at}`));
        if (result.status === 'refused' && result.run.state === 'awaitingApproval' && result.run.deadline) {
          // Fired early (clock skew between machines): try again at the deadline.
          await jobs.enqueueDeadline(database.executor, { runId, at: result.run.deadline });
        }
        if (result.status === 'applied') log.info('approval expired', { run: result.run.number });
        await jobs.complete(QUEUE.deadline, job.id);
      } catch (error) {
        log.warn('deadline job failed; it will be retried', { error: (error as Error).message });
        await jobs.fail(QUEUE.deadline, job.id, (error as Error).message);
      }
    }
  }

  async function sendNotifications(): Promise<void> {
    for (const job of await jobs.fetch(QUEUE.notify, 10)) {
      const parsed = NotifyJob.safeParse(job.data);
      try {
        if (parsed.success && deps.notifier) await deps.notifier(parsed.data.runId);
        await jobs.complete(QUEUE.notify, job.id);
      } catch (error) {
        log.warn('chat notification failed; it will be retried', { error: (error as Error).message });
        await jobs.fail(QUEUE.notify, job.id, (error as Error).message);
      }
    }
  }

  function launch(c: Claim): Promise<void> {
    const controller = new AbortController();
    const done = execute(c, controller)
      .catch((error: Error) =>
        log.error('stage attempt crashed the runner', { error: error.stack ?? error.message }),
      )
      .finally(() => inFlight.delete(key(c)));
    inFlight.set(key(c), { claim: c, controller, done });
    return done;
  }

  /** One round of work; returns the stage attempts it launched. */
  async function round(): Promise<Promise<void>[]> {
    if (Date.now() - lastReap >= Math.max(heartbeatMs, leaseMs / 3)) {
      lastReap = Date.now();
      await reap();
    }
    await fireDeadlines();
    await sendNotifications();
    const free = concurrency - inFlight.size;
    if (free <= 0 || stopping) return [];
    return (await claim(free)).map(launch);
  }

  async function tick(): Promise<number> {
    const launched = await round();
    await Promise.all(launched);
    return launched.length;
  }

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        if ((await round()).length > 0) continue;
      } catch (error) {
        if (stopping) break;
        log.error('worker loop error', { error: (error as Error).message });
      }
      await sleep(pollMs);
    }
  }

  return {
    start() {
      if (loop) return;
      stopping = false;
      loop = (async () => {
        if (database.exclusive) {
          // We hold the embedded database's lock, so any running attempt belongs to a dead process.
          const reaped = await reap(true).catch((error: Error) => {
            log.error('startup reap failed', { error: error.message });
            return 0;
          });
          if (reaped) log.warn('released attempts left running by a previous process', { reaped });
        }
        await run();
      })();
      log.info('worker started', { worker: workerId, concurrency, leaseMs });
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      await loop;
      loop = undefined;
      const pending = [...inFlight.values()];
      if (pending.length === 0) return;
      log.info('waiting for running stages', { count: pending.length, graceMs });
      const finished = Promise.all(pending.map((p) => p.done));
      const timedOut = await Promise.race([finished.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        for (const p of inFlight.values()) p.controller.abort('shutdown' satisfies Abort);
        await Promise.all([...inFlight.values()].map((p) => p.done));
      }
    },
    tick,
    reap,
  };
}
