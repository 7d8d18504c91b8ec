import { and, eq, lt } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { stageAttempts } from '../../db/schema.ts';
import type { Logger } from '../../log.ts';
import type { StageName } from '../../stages/stage.ts';
import type { Clock } from '../clock.ts';
import { type JobQueue, QUEUE } from '../jobs.ts';
import type { RunEngine } from '../run-engine.ts';
import { type AttemptRef, type JobHandler, leaseOf, systemEvent } from './attempts.ts';

export type ReaperDeps = {
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  clock: Clock;
  log: Logger;
  workerId: string;
  /** A running attempt whose heartbeat is older than this belongs to a dead worker. */
  leaseMs: number;
  /** Reap at most this often. */
  everyMs: number;
  /** Attempts this process runs itself are never reaped by it. */
  isRunningHere(ref: AttemptRef): boolean;
};

export type Reaper = JobHandler & {
  /** Marks attempts whose worker stopped heartbeating as lost. `all` reaps every running attempt not ours. */
  reap(all?: boolean): Promise<number>;
};

/** Rolls back the reaping of an attempt whose run only another Steward version can restore. */
class HandedBack extends Error {}

/**
 * Finds attempts whose worker went silent and reports them lost, so the run machine starts
 * the next attempt. Each attempt is reaped on its own: one run that cannot take the report
 * never stops the others from being reaped.
 */
export function createReaper(deps: ReaperDeps): Reaper {
  const { database, jobs, engine, clock, log, workerId, leaseMs } = deps;
  let lastReap = Number.NEGATIVE_INFINITY;

  function candidates(all: boolean, cutoff: Date) {
    const running = eq(stageAttempts.status, 'running');
    return database.db
      .select()
      .from(stageAttempts)
      .where(all ? running : and(running, lt(stageAttempts.heartbeatAt, cutoff)));
  }

  async function reapOne(
    attempt: Awaited<ReturnType<typeof candidates>>[number],
    all: boolean,
    cutoff: Date,
  ) {
    const c: AttemptRef = {
      runId: attempt.runId,
      stage: attempt.stage as StageName,
      attempt: attempt.attempt,
    };
    const error = all
      ? `worker ${attempt.workerId} was gone when ${workerId} started (the data dir lock proves it)`
      : `worker ${attempt.workerId} sent no heartbeat for ${Math.round(leaseMs / 1000)}s; the attempt is presumed lost`;
    try {
      return await engine.transaction(async (tx, apply) => {
        const stillSilent = all ? undefined : lt(stageAttempts.heartbeatAt, cutoff);
        const [lease] = await tx
          .update(stageAttempts)
          .set({ status: 'lost', error, finishedAt: await clock.now(tx) })
          .where(and(leaseOf(c), eq(stageAttempts.status, 'running'), stillSilent))
          .returning();
        if (!lease) return false; // it finished, or its heartbeat came back meanwhile
        if (attempt.jobId) await jobs.fail(QUEUE.stage, attempt.jobId, error, database.executorFor(tx));
        const report = await apply(
          systemEvent(
            c.runId,
            { type: 'stage.failed', ...c, cause: 'lost', error },
            `lost:${c.stage}:${c.attempt}`,
          ),
        );
        // Another Steward version wrote this run (a rolling upgrade): leave the attempt to it.
        if (report.status === 'refused' && report.unrestorable) throw new HandedBack();
        return true;
      });
    } catch (reportError) {
      if (reportError instanceof HandedBack) return false;
      // Transient (the database): the attempt stays running, and the next round tries again.
      log.error('a lost attempt could not be reported to its run; will try again', {
        runId: c.runId,
        stage: c.stage,
        attempt: c.attempt,
        error: reportError,
      });
      return false;
    }
  }

  async function reap(all = false): Promise<number> {
    let reaped = 0;
    const cutoff = new Date((await clock.now(database.db)).getTime() - leaseMs);
    for (const attempt of await candidates(all, cutoff)) {
      const c = { runId: attempt.runId, stage: attempt.stage as StageName, attempt: attempt.attempt };
      if (deps.isRunningHere(c)) continue;
      if (await reapOne(attempt, all, cutoff)) {
        reaped++;
        log.warn('stage attempt lost', {
          runId: c.runId,
          stage: c.stage,
          attempt: c.attempt,
          worker: attempt.workerId,
        });
      }
    }
    return reaped;
  }

  return {
    name: 'reaper',
    pollMs: deps.everyMs,
    async round() {
      const now = performance.now();
      if (now - lastReap < deps.everyMs) return [];
      lastReap = now;
      await reap();
      return [];
    },
    reap,
  };
}
