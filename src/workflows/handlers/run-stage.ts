import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { databaseCause, loggableError, withoutQueryText } from '../../db/database-error.ts';
import { findRun, runState, stageAttemptsOf } from '../../db/runs-repo.ts';
import { stageAttempts } from '../../db/schema.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import {
  isFatal,
  readableMessage,
  readableStack,
  type StageName,
  type StageRequest,
  type StageResult,
  validationIssues,
} from '../../stages/stage.ts';
import type { StageStore } from '../../stages/store.ts';
import type { Clock } from '../clock.ts';
import { type JobQueue, QUEUE, StageJob } from '../jobs.ts';
import { type ApplyRequest, isFinal, type RunEngine } from '../run-engine.ts';
import { StageAbortedError, type StageExecutor } from '../stage-executor.ts';
import { type AttemptRef, attemptKey, type JobHandler, leaseOf, systemEvent } from './attempts.ts';

export type StageRunnerDeps = {
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  executor: StageExecutor;
  store: StageStore;
  clock: Clock;
  log: Logger;
  workerId: string;
  concurrency: number;
  heartbeatMs: number;
  pollMs: number;
  progressEveryMs: number;
  /** Claim only this run's stage jobs (`steward run --wait` on an otherwise idle embedded database). */
  onlyRun?: string;
  /** Observes each attempt's wall time by how it ended, and counts failed attempts as `STAGE_FAILED` errors. */
  metrics?: Pick<Metrics, 'stageDuration' | 'errors'>;
};

export type StageRunner = JobHandler & {
  /** True while this process runs the attempt (the reaper leaves it alone). */
  isRunning(ref: AttemptRef): boolean;
  /** Stops claiming; running attempts get `graceMs` to finish, then are released to other workers. */
  stop(graceMs: number): Promise<void>;
};

type Claim = AttemptRef & { jobId: string };

/** How long an attempt handed back to another Steward version waits before it is due again. */
const HAND_BACK_SECONDS = 30;
type Abort = 'shutdown' | 'lost' | 'superseded';
/** How an attempt that started ended: the `outcome` label of `steward_stage_duration_seconds`. */
type Outcome = 'done' | 'failed' | 'released' | 'lost';

/**
 * Claims stage jobs and runs them: the lease and the job are taken in one transaction, the
 * attempt runs on the executor (a worker thread) while a heartbeat renews the lease, and its
 * outcome is reported in one transaction with what it stored. Every failure of an attempt,
 * from its start report to its last write, is reported as that attempt's failure.
 */
export function createStageRunner(deps: StageRunnerDeps): StageRunner {
  const { database, jobs, engine, executor, store, clock, log, workerId } = deps;
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let stopping = false;

  /** Claims stage jobs and takes their leases in one transaction: either both happen or neither. */
  function claim(limit: number): Promise<Claim[]> {
    return database.db.transaction(async (tx) => {
      const executor = database.executorFor(tx);
      const now = await clock.now(tx);
      const running = { status: 'running', workerId, startedAt: now, heartbeatAt: now } as const;
      if (deps.onlyRun) {
        // Nothing else serves this database: take the run's queued attempt directly and
        // cancel its job, so that no later worker picks it up again.
        const leases = await tx
          .update(stageAttempts)
          .set(running)
          .where(and(eq(stageAttempts.runId, deps.onlyRun), eq(stageAttempts.status, 'queued')))
          .returning();
        const claimed: Claim[] = [];
        for (const lease of leases) {
          if (lease.jobId) await jobs.cancel(QUEUE.stage, lease.jobId, executor);
          claimed.push({
            runId: lease.runId,
            stage: lease.stage as StageName,
            attempt: lease.attempt,
            jobId: lease.jobId as string,
          });
        }
        return claimed;
      }
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
          .set({ ...running, jobId: job.id })
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

  /** Ends a lease that is still ours and reports `event`, in one transaction. */
  function finish(
    c: Claim,
    status: 'failed' | 'released',
    error: string,
    event?: ApplyRequest['event'],
  ): Promise<unknown> {
    return engine.transaction(async (tx, apply) => {
      const [lease] = await tx
        .update(stageAttempts)
        .set({ status, output: null, error, finishedAt: await clock.now(tx) })
        .where(and(leaseOf(c), eq(stageAttempts.status, 'running')))
        .returning({ attempt: stageAttempts.attempt });
      await jobs.complete(QUEUE.stage, c.jobId, database.executorFor(tx));
      if (lease && event) await apply(systemEvent(c.runId, event, `${status}:${c.stage}:${c.attempt}`));
    });
  }

  /**
   * Puts an attempt back in the queue, with a new job a little later, for a process that can
   * restore its run: during a rolling upgrade an older Steward may claim a newer run's job.
   */
  function handBack(c: Claim): Promise<void> {
    return database.db.transaction(async (tx) => {
      const executor = database.executorFor(tx);
      const jobId = await jobs.enqueueStage(executor, c, { startAfterSeconds: HAND_BACK_SECONDS });
      await tx
        .update(stageAttempts)
        .set({ status: 'queued', workerId: null, jobId, startedAt: null, heartbeatAt: null })
        .where(and(leaseOf(c), eq(stageAttempts.status, 'running')));
      await jobs.complete(QUEUE.stage, c.jobId, executor);
    });
  }

  /**
   * Stores what the stage produced and reports it, in one transaction, while we still hold
   * the lease. The writes sit in a savepoint: when the run refuses the report (it was
   * cancelled meanwhile, or this attempt was superseded), they are rolled back, so a
   * cancelled deploy promotes nothing and a cancelled run registers no model version.
   */
  function reportDone(c: Claim, request: StageRequest, result: StageResult): Promise<boolean> {
    return engine.transaction(async (tx, apply) => {
      const [held] = await tx
        .select({ status: stageAttempts.status })
        .from(stageAttempts)
        .where(leaseOf(c))
        .for('update');
      if (held?.status !== 'running') {
        // Lost or released meanwhile: a later attempt owns the stage now; store nothing.
        await jobs.complete(QUEUE.stage, c.jobId, database.executorFor(tx));
        return false;
      }
      await tx.execute(sql`savepoint stage_output`);
      const stored = await store.save(tx, request, result);
      const report = await apply(
        systemEvent(
          c.runId,
          { type: 'stage.done', stage: c.stage, attempt: c.attempt, summary: stored.summary ?? null },
          `done:${c.stage}:${c.attempt}`,
        ),
      );
      const accepted = report.status === 'applied';
      await tx.execute(
        accepted ? sql`release savepoint stage_output` : sql`rollback to savepoint stage_output`,
      );
      await tx
        .update(stageAttempts)
        .set({
          status: accepted ? 'done' : 'released',
          output: accepted ? (stored.output ?? null) : null,
          error: accepted
            ? null
            : `the run did not take the result, so nothing was stored: ${
                report.status === 'refused' ? report.message : 'already reported'
              }`,
          finishedAt: await clock.now(tx),
        })
        .where(leaseOf(c));
      await jobs.complete(QUEUE.stage, c.jobId, database.executorFor(tx));
      return accepted;
    });
  }

  /** What the stage reads: the run, the outputs of its earlier stages and the stored artifacts. */
  async function requestFor(c: Claim): Promise<StageRequest> {
    const run = await findRun(database.db, { id: c.runId });
    if (!run) throw new StageAbortedError(`run ${c.runId} no longer exists`);
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
        cause: run.cause as StageRequest['run']['cause'],
      },
      stage: c.stage,
      attempt: c.attempt,
      inputs,
    };
    request.artifacts = await store.load(database.db, request);
    return request;
  }

  async function execute(c: Claim, controller: AbortController): Promise<void> {
    const stageLog = log.child({ runId: c.runId, stage: c.stage, attempt: c.attempt });
    let heartbeat: NodeJS.Timeout | undefined;
    const t0 = performance.now();
    // Known once the run took the start: attempts handed back or no longer wanted never ran.
    let pipeline: string | undefined;
    const ended = (outcome: Outcome) => {
      if (pipeline === undefined) return;
      const labels = { pipeline, stage: c.stage, outcome };
      deps.metrics?.stageDuration.observe(labels, (performance.now() - t0) / 1000);
    };
    try {
      const started = await engine.apply(
        systemEvent(
          c.runId,
          { type: 'stage.started', stage: c.stage, attempt: c.attempt, worker: workerId },
          `started:${c.stage}:${c.attempt}`,
        ),
      );
      if (started.status === 'refused' && started.unrestorable) {
        // Another Steward version wrote this run (a rolling upgrade): leave the attempt to it.
        stageLog.warn('stage attempt handed back: this Steward cannot restore its run', {
          run: started.run.number,
          reason: started.message,
        });
        await handBack(c);
        return;
      }
      if (started.status === 'refused') {
        stageLog.info('stage attempt no longer wanted', { run: started.run.number, reason: started.message });
        await finish(c, 'released', `not started: ${started.message}`);
        return;
      }
      pipeline = started.run.pipeline;
      heartbeat = setInterval(() => void beat(c, controller, stageLog), deps.heartbeatMs);
      const request = await requestFor(c);
      stageLog.info('stage started', { run: request.run.number });
      const result = await executor.run(request, {
        signal: controller.signal,
        onProgress: progressReporter(c, stageLog),
      });
      clearInterval(heartbeat);
      const accepted = await reportDone(c, request, result);
      ended(accepted ? 'done' : 'released');
      stageLog.info(accepted ? 'stage done' : 'stage result not taken', {
        ms: Math.round(performance.now() - t0),
      });
    } catch (error) {
      clearInterval(heartbeat);
      await reportFailure(c, controller, error, stageLog, ended);
    }
  }

  async function reportFailure(
    c: Claim,
    controller: AbortController,
    error: unknown,
    stageLog: Logger,
    ended: (outcome: Outcome) => void,
  ) {
    const reason = controller.signal.reason as Abort | undefined;
    if (reason === 'shutdown') {
      await finish(c, 'released', 'released: worker shutting down', {
        type: 'stage.failed',
        stage: c.stage,
        attempt: c.attempt,
        cause: 'released',
        error: `worker ${workerId} shut down during the stage; the attempt was released`,
      });
      ended('released');
      stageLog.info('stage released on shutdown');
      return;
    }
    if (reason || error instanceof StageAbortedError) {
      // Lost (the reaper already reported it) or superseded (the run moved on): just let go.
      await finish(c, 'released', `aborted: ${reason ?? (error as Error).message}`);
      ended(reason === 'lost' ? 'lost' : 'released');
      stageLog.info('stage aborted', { reason: reason ?? (error as Error).message });
      return;
    }
    const { message, detail, fatal } = describeFailure(error);
    stageLog.warn('stage failed', { error: message, fatal });
    await finish(c, 'failed', detail, {
      type: 'stage.failed',
      stage: c.stage,
      attempt: c.attempt,
      cause: fatal ? 'fatal' : 'error',
      error: message,
    });
    deps.metrics?.errors.inc({ code: 'STAGE_FAILED' });
    ended('failed');
  }

  /** Progress events, at most one per `progressEveryMs` per attempt; losing one is harmless. */
  function progressReporter(c: Claim, stageLog: Logger) {
    let last = Number.NEGATIVE_INFINITY;
    let count = 0;
    return (message: string, fraction?: number) => {
      const now = performance.now();
      if (now - last < deps.progressEveryMs) return;
      last = now;
      const n = ++count;
      const event = { type: 'stage.progress', stage: c.stage, attempt: c.attempt, message } as const;
      engine
        .apply(
          systemEvent(
            c.runId,
            fraction === undefined ? event : { ...event, fraction },
            `progress:${c.stage}:${c.attempt}:${n}`,
          ),
        )
        .catch((error: Error) => stageLog.warn('progress not recorded', { error }));
    };
  }

  /** Renews the lease; aborts the attempt when the lease was taken away or the run ended. */
  async function beat(c: Claim, controller: AbortController, stageLog: Logger): Promise<void> {
    if (controller.signal.aborted) return;
    try {
      const [lease] = await database.db
        .update(stageAttempts)
        .set({ heartbeatAt: await clock.now(database.db) })
        .where(and(leaseOf(c), eq(stageAttempts.status, 'running')))
        .returning({ attempt: stageAttempts.attempt });
      if (!lease) return controller.abort('lost' satisfies Abort);
      const state = await runState(database.db, c.runId);
      if (!state || isFinal(state)) controller.abort('superseded' satisfies Abort);
    } catch (error) {
      stageLog.warn('heartbeat failed', { error });
    }
  }

  function launch(c: Claim): Promise<void> {
    const controller = new AbortController();
    const done = execute(c, controller)
      .catch((error: Error) =>
        // Even the failure report failed (the database is gone): the lease runs out and the
        // reaper reports the attempt lost.
        log.error('stage attempt could not report its outcome', { error, stage: c.stage }),
      )
      .finally(() => inFlight.delete(attemptKey(c)));
    inFlight.set(attemptKey(c), { controller, done });
    return done;
  }

  return {
    name: 'stages',
    pollMs: deps.pollMs,
    async round() {
      const free = deps.concurrency - inFlight.size;
      if (free <= 0 || stopping) return [];
      return (await claim(free)).map(launch);
    },
    isRunning: (ref) => inFlight.has(attemptKey(ref)),
    async stop(graceMs) {
      stopping = true;
      const pending = [...inFlight.values()];
      if (pending.length === 0) return;
      log.info('waiting for running stages', { count: pending.length, graceMs });
      const finished = Promise.all(pending.map((p) => p.done));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        finished.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (!timedOut) return;
      for (const p of inFlight.values()) p.controller.abort('shutdown' satisfies Abort);
      await Promise.all([...inFlight.values()].map((p) => p.done));
    },
  };
}

/** How much of a failure's message the run keeps (its report in chat), and of its detail (the attempt's). */
export const FAILURE_MESSAGE_CHARS = 2000;
const FAILURE_DETAIL_CHARS = 16_000;

/**
 * A failure as people and the run machine need it: the real message (a database error's own
 * text, never a query with its parameters, which may hold a whole dataset), the detail kept
 * on the attempt, and whether trying again could help. Stage failures marked fatal (bad
 * data, a missed threshold) and errors the database raised on our writes because of what
 * they held (class 22, data exceptions such as a NUL byte in text; class 54, limits such
 * as an oversized value) would fail the same way again. Both texts are made storable: a
 * NUL byte or half a surrogate pair in them would make the failure report fail too.
 */
export function describeFailure(error: unknown): { message: string; detail: string; fatal: boolean } {
  const database = databaseCause(error);
  if (database) {
    const why = database.detail ? `${database.message} (${database.detail})` : database.message;
    const message = storable(`the database refused the stage's result: ${why}`, FAILURE_MESSAGE_CHARS);
    return { message, detail: message, fatal: isDataError(database.code) };
  }
  // A zod refusal as readable lines; anything else as the logger would show it (no query text).
  const message = validationIssues(error) ? readableMessage(error) : loggableError(error);
  const stack = readableStack(error);
  return {
    message: storable(message, FAILURE_MESSAGE_CHARS),
    detail: storable(stack ? withoutQueryText(stack) : message, FAILURE_DETAIL_CHARS),
    fatal: isFatal(error),
  };
}

/** SQLSTATE classes 22 (data exception) and 54 (program limit exceeded): the same write fails again. */
const isDataError = (code: string | undefined) =>
  code?.startsWith('22') === true || code?.startsWith('54') === true;

/**
 * `text` as PostgreSQL text and jsonb can hold it: a NUL byte shown as `\0`, a lone half of
 * a surrogate pair replaced, and at most `max` characters.
 */
export function storable(text: string, max: number): string {
  const clean = text
    .replaceAll('\0', '\\0')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  if (clean.length <= max) return clean;
  const cut = /[\uD800-\uDBFF]/.test(clean.charAt(max - 1)) ? max - 1 : max;
  return `${clean.slice(0, cut)}… (${clean.length - cut} more characters)`;
}
