import { setTimeout as sleep } from 'node:timers/promises';
import PgBoss from 'pg-boss';
import { z } from 'zod';
import { markOutOfDate } from '../db/chat-outbox.ts';
import type { Database, SqlExecutor } from '../db/client.ts';
import type { Logger } from '../log.ts';
import { STAGES } from './pipeline-run.machine.ts';

/** Job payloads are a boundary (they outlive the process that wrote them): validate on read. */
export const StageJob = z.object({
  runId: z.uuid(),
  stage: z.enum(STAGES),
  attempt: z.number().int().positive(),
});
export type StageJob = z.infer<typeof StageJob>;

export const DeadlineJob = z.object({ runId: z.uuid(), at: z.iso.datetime() });
export type DeadlineJob = z.infer<typeof DeadlineJob>;

export const NotifyJob = z.object({ runId: z.uuid() });
export type NotifyJob = z.infer<typeof NotifyJob>;

/** One monitoring tick of one pipeline: `tickAt` is the tick's scheduled time, not when it fired. */
export const MonitorJob = z.object({ pipeline: z.string().min(1), tickAt: z.iso.datetime() });
export type MonitorJob = z.infer<typeof MonitorJob>;

export const QUEUE = {
  stage: 'steward_stage',
  deadline: 'steward_deadline',
  monitor: 'steward_monitor',
} as const;
export type QueueName = (typeof QUEUE)[keyof typeof QUEUE];

export type FetchedJob = { id: string; name: string; data: unknown };

/**
 * The durable job queue (pg-boss 10, on PGlite or PostgreSQL). Jobs are enqueued with the
 * transaction's own executor, so a job exists if and only if the event that caused it
 * committed. Stage jobs are never retried by pg-boss: the run machine owns retries.
 */
export type JobQueue = {
  enqueueStage(db: SqlExecutor, job: StageJob, options?: { startAfterSeconds?: number }): Promise<string>;
  enqueueDeadline(db: SqlExecutor, job: DeadlineJob): Promise<string | null>;
  /**
   * Enqueues a monitoring tick once however many processes fire it: keyed by pipeline and
   * scheduled time. Null when the tick is queued already.
   */
  enqueueMonitor(job: MonitorJob): Promise<string | null>;
  /**
   * Asks for the run's chat messages to be brought up to date, at most about once a second.
   * Not a pg-boss job: a per-run row in the chat outbox (see `db/chat-outbox.ts`), so that a
   * delivery stuck on one run never holds up another's.
   */
  enqueueNotify(db: SqlExecutor, job: NotifyJob): Promise<void>;
  /** Claims up to `limit` jobs (SKIP LOCKED), inside the caller's transaction when `db` is given. */
  fetch(queue: QueueName, limit: number, db?: SqlExecutor): Promise<FetchedJob[]>;
  complete(queue: QueueName, id: string, db?: SqlExecutor): Promise<void>;
  /** Withdraws a job that is not running yet, so no worker fetches it. */
  cancel(queue: QueueName, id: string, db?: SqlExecutor): Promise<void>;
  fail(queue: QueueName, id: string, reason: string, db?: SqlExecutor): Promise<void>;
  /**
   * Jobs due and not yet claimed (created or retry, start time passed), by queue, every
   * queue named (0 when empty). A deadline scheduled for tomorrow is not waiting yet.
   */
  waiting(): Promise<Record<QueueName, number>>;
  stop(): Promise<void>;
};

export type JobQueueOptions = {
  database: Database;
  log: Logger;
  /** Run pg-boss maintenance (expiry, archiving) in this process. Off for short-lived CLI calls. */
  supervise: boolean;
};

const MONITOR_SLOT_SECONDS = 3600;

/** How often a queue's creation is tried when PostgreSQL ends it as a deadlock victim. */
const QUEUE_CREATE_TRIES = 5;

/**
 * Creates the queue unless it exists. Processes started together on a new database (a
 * `steward start` and its workers from one `docker compose up`) create the same queues at
 * the same moment, and pg-boss's create_queue (a partition attached to the job table) can
 * deadlock with another's: PostgreSQL aborts one of them, and the next try finds the queue
 * made or makes it.
 */
async function ensureQueue(boss: PgBoss, name: QueueName): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, policy: 'standard' });
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== DEADLOCK_DETECTED || attempt >= QUEUE_CREATE_TRIES)
        throw error;
      await sleep(25 * attempt + Math.random() * 50);
    }
  }
}

/** PostgreSQL's SQLSTATE for a transaction aborted to break a deadlock. */
const DEADLOCK_DETECTED = '40P01';

const NO_DATA = null as unknown as object;

export async function createJobQueue({ database, log, supervise }: JobQueueOptions): Promise<JobQueue> {
  const boss = new PgBoss({
    db: database.executor,
    supervise,
    schedule: false,
    migrate: true,
    // Completed jobs are history we do not need: run_events is the audit trail.
    archiveCompletedAfterSeconds: 60 * 60,
  });
  boss.on('error', (error: Error) => log.warn('job queue error', { error }));
  await boss.start();
  for (const name of Object.values(QUEUE)) await ensureQueue(boss, name);

  return {
    async enqueueStage(db, job, options = {}) {
      const id = await boss.send(
        QUEUE.stage,
        { runId: job.runId, stage: job.stage, attempt: job.attempt },
        {
          db,
          retryLimit: 0,
          expireInHours: 23,
          ...(options.startAfterSeconds ? { startAfter: options.startAfterSeconds } : {}),
        },
      );
      if (!id) throw new Error(`stage job for ${job.runId}/${job.stage}#${job.attempt} was not created`);
      return id;
    },
    enqueueDeadline(db, job) {
      return boss.send(QUEUE.deadline, job, {
        db,
        startAfter: new Date(job.at),
        retryLimit: 20,
        retryDelay: 5,
        retryBackoff: true,
      });
    },
    enqueueMonitor(job) {
      // On a pg-boss 10 standard queue a singletonKey alone is not unique: only the index
      // that singletonSeconds fills (name, singleton_on, key) enforces it. Processes that fire
      // the same tick land in the same hour slot unless an hour boundary falls between them;
      // the drift report's unique (pipeline, tick_at) catches that case.
      return boss.send(QUEUE.monitor, job, {
        singletonKey: `${job.pipeline}@${job.tickAt}`,
        singletonSeconds: MONITOR_SLOT_SECONDS,
        retryLimit: 3,
        retryDelay: 30,
        expireInMinutes: 15,
      });
    },
    enqueueNotify: (db, job) => markOutOfDate(db, job.runId),
    async fetch(queue, limit, db) {
      const jobs = await boss.fetch(queue, { batchSize: limit, ...(db ? { db } : {}) });
      return jobs.map((j) => ({ id: j.id, name: j.name, data: j.data }));
    },
    // pg-boss 10 reads these arguments by position (name, id, data, options), whatever its
    // typings' overloads say: passing options third would silently use the pool, which
    // deadlocks PGlite inside a transaction.
    complete: (queue, id, db) => boss.complete(queue, id, NO_DATA, db ? { db } : {}),
    cancel: (queue, id, db) => boss.cancel(queue, id, db ? { db } : {}),
    fail: (queue, id, reason, db) => boss.fail(queue, id, { reason }, db ? { db } : {}),
    async waiting() {
      const names = Object.values(QUEUE);
      const { rows } = await database.executor.executeSql(
        `select name, count(*) as n from pgboss.job
          where name in (${names.map((_, i) => `$${i + 1}`).join(', ')})
            and state in ('created', 'retry') and start_after <= now()
          group by name`,
        names,
      );
      const depth = Object.fromEntries(names.map((name) => [name, 0])) as Record<QueueName, number>;
      // count(*) is a string on pg and a number on PGlite.
      for (const row of rows as { name: QueueName; n: string | number }[]) depth[row.name] = Number(row.n);
      return depth;
    },
    stop: () => boss.stop({ graceful: false, wait: true }),
  };
}
