import type { Database } from '../../db/client.ts';
import { loggableError } from '../../db/database-error.ts';
import type { Logger } from '../../log.ts';
import { DeadlineJob, type JobQueue, QUEUE } from '../jobs.ts';
import type { RunEngine } from '../run-engine.ts';
import { type JobHandler, systemEvent } from './attempts.ts';

export type DeadlineFirerDeps = {
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  log: Logger;
  pollMs: number;
};

/** Fires due approval deadlines (delayed jobs): the run expires unless it was decided first. */
export function createDeadlineFirer({ database, jobs, engine, log, pollMs }: DeadlineFirerDeps): JobHandler {
  return {
    name: 'deadlines',
    pollMs,
    async round() {
      for (const job of await jobs.fetch(QUEUE.deadline, 20)) {
        const parsed = DeadlineJob.safeParse(job.data);
        if (!parsed.success) {
          await jobs.fail(QUEUE.deadline, job.id, 'malformed payload');
          continue;
        }
        try {
          const { runId, at } = parsed.data;
          const result = await engine.apply(systemEvent(runId, { type: 'approval.expire' }, `expire:${at}`));
          const later = result.run.deadline && Date.parse(result.run.deadline) > Date.parse(at);
          if (result.status === 'refused' && result.run.state === 'awaitingApproval' && later) {
            // The run's deadline moved past this job's time: try again at the new one. (A refusal
            // at the deadline itself is final: firing again would be refused again, forever.)
            await jobs.enqueueDeadline(database.executor, { runId, at: result.run.deadline as string });
          }
          if (result.status === 'applied') log.info('approval expired', { run: result.run.number });
          await jobs.complete(QUEUE.deadline, job.id);
        } catch (error) {
          log.warn('deadline job failed; it will be retried', { error });
          await jobs.fail(QUEUE.deadline, job.id, loggableError(error));
        }
      }
      return [];
    },
  };
}
