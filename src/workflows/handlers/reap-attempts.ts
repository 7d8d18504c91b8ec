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

/**
 * Finds attempts whose worker went silent and reports them lost, so the run machine starts
 * the next attempt. Each attempt is reaped on its own: one run that cannot take the report
 * never stops the others from being reaped.
 */
export function createReaper(deps: ReaperDeps): Reaper {
  const { database, jobs, engine, clock, log, workerId, leaseMs } = deps;
  let lastReap = Number.NEGATIVE_INFINITY;

  async function candidates(all: boolean) {
    const running = eq(stageAttempts.status, 'running');
    if (all) return database.db.select().from(stageAttempts).where(running);
    const cutoff = new Date((await clock.now(database.db)).getTime() - leaseMs);
    return database.db
      .select()
      .from(stageAttempts)
      .where(and(running, lt(stageAttempts.heartbeatAt, cutoff)));
  }

  async function reapOne(attempt: Awaited<ReturnType<typeof candidates>>[number], all: boolean) {
    const c: AttemptRef = {
      runId: attempt.runId,
      stage: attempt.stage as StageName,
      attempt: attempt.attempt,
    };
    const error = all
      ? `worker ${attempt.workerId} was gone when ${workerId} started (the data dir lock proves it)`
      : `worker ${attempt.workerId} sent no heartbeat for ${Math.round(leaseMs / 1000)}s; the attempt is presumed lost`;
    const lose = (report: boolean) =>
      engine.transaction(async (tx, apply) => {
        const [lease] = await tx
          .update(stageAttempts)
          .set({ status: 'lost', error, finishedAt: await clock.now(tx) })
          .where(and(leaseOf(c), eq(stageAttempts.status, 'running')))
          .returning();
        if (!lease) return false;
        if (attempt.jobId) await jobs.fail(QUEUE.stage, attempt.jobId, error, database.executorFor(tx));
        if (report) {
          await apply(
            systemEvent(
              c.runId,
              { type: 'stage.failed', ...c, cause: 'lost', error },
              `lost:${c.stage}:${c.attempt}`,
            ),
          );
        }
        return true;
      });
    try {
      return await lose(true);
    } catch (reportError) {
      log.error('a lost attempt could not be reported to its run; ending its lease', {
        runId: c.runId,
        stage: c.stage,
        attempt: c.attempt,
        error: (reportError as Error).message,
      });
      return lose(false).catch(() => false);
    }
  }

  async function reap(all = false): Promise<number> {
    let reaped = 0;
    for (const attempt of await candidates(all)) {
      const c = { runId: attempt.runId, stage: attempt.stage as StageName, attempt: attempt.attempt };
      if (deps.isRunningHere(c)) continue;
      if (await reapOne(attempt, all)) {
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
