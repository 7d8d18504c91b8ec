import { count } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { loggableError } from '../db/database-error.ts';
import { runs } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { JobQueue } from './jobs.ts';

export type RunGaugeDeps = {
  metrics: Pick<Metrics, 'gauge'>;
  database: Pick<Database, 'db'>;
  jobs: Pick<JobQueue, 'waiting'>;
  log: Logger;
};

/**
 * The gauges read from the database at each scrape: `steward_runs` (pipeline, state) and
 * `steward_job_queue_depth` (queue). They are the same for every process on one database,
 * so a dashboard takes their `max` over instances. A failed read leaves the series out of
 * that scrape (and logs why) rather than failing the whole scrape: the process's own series
 * are still worth having while the database is down, and /healthz says it is.
 */
export function addRunGauges({ metrics, database, jobs, log }: RunGaugeDeps): void {
  const orNothing =
    <T>(what: string, read: () => Promise<T[]>) =>
    async (): Promise<T[]> => {
      try {
        return await read();
      } catch (error) {
        log.warn('metrics gauge not read', { gauge: what, error: loggableError(error) });
        return [];
      }
    };

  metrics.gauge(
    'steward_runs',
    'Pipeline runs, by pipeline and state',
    ['pipeline', 'state'] as const,
    orNothing('steward_runs', async () => {
      const rows = await database.db
        .select({ pipeline: runs.pipeline, state: runs.state, n: count() })
        .from(runs)
        .groupBy(runs.pipeline, runs.state);
      return rows.map((r) => ({ labels: { pipeline: r.pipeline, state: r.state }, value: Number(r.n) }));
    }),
  );

  metrics.gauge(
    'steward_job_queue_depth',
    'Jobs due and not yet claimed, by queue',
    ['queue'] as const,
    orNothing('steward_job_queue_depth', async () =>
      Object.entries(await jobs.waiting()).map(([queue, depth]) => ({ labels: { queue }, value: depth })),
    ),
  );
}
