import cron, { type ScheduledTask } from 'node-cron';
import type { Database } from '../../db/client.ts';
import { loggableError } from '../../db/database-error.ts';
import { productionModels } from '../../db/schema.ts';
import { isStewardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { PipelineCatalog } from '../../stages/catalog.ts';
import { type JobQueue, MonitorJob, QUEUE } from '../jobs.ts';
import type { Monitoring } from '../monitoring.ts';
import type { JobHandler } from './attempts.ts';

export type MonitorSchedulerDeps = {
  database: Database;
  catalog: PipelineCatalog;
  jobs: Pick<JobQueue, 'enqueueMonitor'>;
  log: Logger;
  /** How often the deployed pipelines and their schedules are re-read. @default 15 s */
  pollMs?: number;
};

/**
 * Fires each deployed pipeline's `monitoring.schedule` with node-cron, in every process that
 * runs jobs. A tick is only an enqueue, keyed by pipeline and scheduled time, so however
 * many processes fire it, one check runs (see `enqueueMonitor`). Its round re-reads which
 * pipelines are deployed and their schedules, so a deploy, a rollback to nothing or an
 * edited spec takes effect within `pollMs`.
 */
export function createMonitorScheduler(deps: MonitorSchedulerDeps): JobHandler & { scheduled(): string[] } {
  const { database, catalog, jobs, log } = deps;
  const tasks = new Map<string, { key: string; task: ScheduledTask }>();
  const warned = new Set<string>();
  // node-cron's own messages (a missed tick after a stall, say) go to our log, not the console.
  const cronLogger = {
    info: (message: string) => log.debug(message, { part: 'cron' }),
    warn: (message: string) => log.warn(message, { part: 'cron' }),
    error: (message: string | Error, error?: Error) => log.error(String(message), { part: 'cron', error }),
    debug: (message: string | Error) => log.debug(String(message), { part: 'cron' }),
  };

  function fire(pipeline: string, date: Date): void {
    const tickAt = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
    jobs
      .enqueueMonitor({ pipeline, tickAt })
      // `queued` is false when another process (or an earlier firing) queued this tick first.
      .then((id) => log.debug('monitoring tick fired', { pipeline, tickAt, queued: id !== null }))
      .catch((error) =>
        log.error('monitoring tick not queued', { pipeline, tickAt, error: loggableError(error) }),
      );
  }

  function unschedule(pipeline: string): void {
    tasks.get(pipeline)?.task.destroy();
    tasks.delete(pipeline);
  }

  return {
    name: 'monitor-schedule',
    pollMs: deps.pollMs ?? 15_000,
    async round() {
      const deployed = await database.db
        .select({ pipeline: productionModels.pipeline })
        .from(productionModels);
      const seen = new Set<string>();
      for (const { pipeline } of deployed) {
        seen.add(pipeline);
        let schedule: string | undefined;
        let timezone: string | undefined;
        try {
          ({ schedule, timezone } = (await catalog.get(pipeline)).monitoring);
          warned.delete(pipeline);
        } catch (error) {
          // A spec that stopped loading keeps its last schedule: say so once, not every round.
          if (!warned.has(pipeline)) {
            warned.add(pipeline);
            log.warn('pipeline spec does not load; its monitoring schedule is unchanged', {
              pipeline,
              error: (error as Error).message,
            });
          }
          continue;
        }
        const key = `${schedule ?? ''}|${timezone ?? ''}`;
        if (tasks.get(pipeline)?.key === key) continue;
        unschedule(pipeline);
        if (!schedule) continue;
        const task = cron.schedule(schedule, (context) => fire(pipeline, context.date), {
          name: `monitor:${pipeline}`,
          logger: cronLogger,
          ...(timezone ? { timezone } : {}),
        });
        tasks.set(pipeline, { key, task });
        log.info('monitoring scheduled', { pipeline, schedule, ...(timezone ? { timezone } : {}) });
      }
      for (const pipeline of [...tasks.keys()]) if (!seen.has(pipeline)) unschedule(pipeline);
      return [];
    },
    async stop() {
      for (const pipeline of [...tasks.keys()]) unschedule(pipeline);
    },
    scheduled: () => [...tasks.keys()],
  };
}

/** Refusals that the same tick would meet again: not retried (a conflict or a database outage is). */
const PERMANENT: ReadonlySet<string> = new Set([
  'NOT_FOUND',
  'BAD_REQUEST',
  'PIPELINE_NOT_FOUND',
  'PIPELINE_INVALID',
  'FORBIDDEN',
  'MODEL_UNAVAILABLE',
]);

export type MonitorRunnerDeps = {
  jobs: Pick<JobQueue, 'fetch' | 'complete' | 'fail'>;
  monitoring: Pick<Monitoring, 'check'>;
  log: Logger;
  pollMs: number;
};

/** Runs queued monitoring ticks: the drift check, its report and its alert decision. */
export function createMonitorRunner({ jobs, monitoring, log, pollMs }: MonitorRunnerDeps): JobHandler {
  return {
    name: 'monitor',
    pollMs,
    async round() {
      const fetched = await jobs.fetch(QUEUE.monitor, 2);
      for (const job of fetched) {
        const parsed = MonitorJob.safeParse(job.data);
        if (!parsed.success) {
          await jobs.fail(QUEUE.monitor, job.id, 'malformed payload');
          continue;
        }
        const { pipeline, tickAt } = parsed.data;
        try {
          const outcome = await monitoring.check({ pipeline, trigger: 'schedule', tickAt: new Date(tickAt) });
          if (outcome.status === 'duplicate')
            log.info('monitoring tick was checked already', { pipeline, tickAt });
          await jobs.complete(QUEUE.monitor, job.id);
        } catch (error) {
          const message = loggableError(error);
          if (isStewardError(error) && PERMANENT.has(error.code)) {
            // Not deployed any more, a source outside the data roots…: trying again cannot help.
            log.warn('monitoring check refused', { pipeline, tickAt, error: message });
            await jobs.complete(QUEUE.monitor, job.id);
            continue;
          }
          log.warn('monitoring check failed; it will be retried', { pipeline, tickAt, error: message });
          await jobs.fail(QUEUE.monitor, job.id, message);
        }
      }
      return [];
    },
  };
}
