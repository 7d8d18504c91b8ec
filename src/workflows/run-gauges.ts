import { count, sql } from 'drizzle-orm';
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

  // The latest check of each deployed pipeline, as stored: every process reports the same
  // figures. Read once per scrape for both drift gauges (a second's reuse), one index probe each.
  let read: { at: number; rows: Promise<{ pipeline: string; report: LatestCheck }[]> } | undefined;
  const latestChecks = orNothing('steward_drift', async () => {
    if (!read || performance.now() - read.at > 1000) {
      read = {
        at: performance.now(),
        rows: (async () => {
          const { rows } = (await database.db.execute(sql`
            select p.pipeline, r.report -> 'drift' as drift, r.report -> 'prediction' as prediction
              from production_models p
              cross join lateral (select report from drift_reports d
                                   where d.pipeline = p.pipeline
                                   order by d.created_at desc limit 1) r`)) as unknown as {
            rows: { pipeline: string; drift: unknown; prediction: unknown }[];
          };
          const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);
          return rows.map((r) => ({
            pipeline: r.pipeline,
            report: { drift: json(r.drift), prediction: json(r.prediction) } as LatestCheck,
          }));
        })(),
      };
    }
    return read.rows;
  });
  metrics.gauge(
    'steward_drift_score',
    'Drift statistic of each monitored feature (and the prediction) at the latest check',
    ['pipeline', 'feature', 'test'] as const,
    async () =>
      (await latestChecks()).flatMap(({ pipeline, report }) =>
        [...(report.drift?.columns ?? []), ...(report.prediction ? [report.prediction] : [])]
          .filter((c) => typeof c.score === 'number')
          .map((c) => ({ labels: { pipeline, feature: c.column, test: c.test }, value: c.score as number })),
      ),
  );
  metrics.gauge(
    'steward_drift_share',
    'Share of monitored features drifting at the latest check',
    ['pipeline'] as const,
    async () =>
      (await latestChecks()).map(({ pipeline, report }) => ({
        labels: { pipeline },
        value: report.drift?.share ?? 0,
      })),
  );
}

type LatestCheck = {
  drift?: { share: number; columns: { column: string; test: string; score: number | null }[] };
  prediction?: { column: string; test: string; score: number | null } | null;
};
