import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Steward's Prometheus series, on a registry of its own (never prom-client's global one),
 * so two apps in one process (tests) or a library that registers its own metrics never
 * collide. Every part that measures something is handed this object; `GET /metrics`
 * renders `registry`. The series names are what `deploy/grafana/steward.json` queries.
 */
export type Metrics = {
  registry: Registry;
  /** Wall time of a stage attempt, by pipeline, stage and how it ended (done, failed, released, lost). */
  stageDuration: Histogram<'pipeline' | 'stage' | 'outcome'>;
  /** Events applied to runs, by event type. */
  eventsApplied: Counter<'type'>;
  /** Rows predicted, by model, version and role (production, canary, shadow). */
  predictions: Counter<'model' | 'version' | 'role'>;
  /** Time to answer a prediction request, by model and the version that answered. */
  predictionDuration: Histogram<'model' | 'version'>;
  /** Errors answered or logged, by Steward's error code. */
  errors: Counter<'code'>;
  /** Prediction log rows dropped because the write buffer was full, by model. */
  predictionLogDropped: Counter<'model'>;
  /** Prediction log rows written to the database. */
  predictionLogWritten: Counter<'model'>;
  /** Drift alert pages and changes, by pipeline and kind (fire, repeat, worsen, resolve, snooze). */
  alerts: Counter<'pipeline' | 'kind'>;
  /** Adds a gauge whose value is read from `collect` at each scrape (runs by state, queue depth). */
  gauge<L extends string>(
    name: string,
    help: string,
    labels: readonly L[],
    collect: () => Promise<{ labels: Record<L, string>; value: number }[]>,
  ): void;
};

const STAGE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const PREDICT_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export function createMetrics({ processMetrics = true }: { processMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (processMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'steward_' });
    // Gauges named like counters, which `promtool check metrics` refuses; each is the sum of
    // the by-type gauge without the suffix (steward_nodejs_active_handles{type}, …).
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) {
      registry.removeSingleMetric(`steward_nodejs_${name}`);
    }
  }
  const registers = [registry];
  return {
    registry,
    stageDuration: new Histogram({
      name: 'steward_stage_duration_seconds',
      help: 'Wall time of a stage attempt',
      labelNames: ['pipeline', 'stage', 'outcome'],
      buckets: STAGE_BUCKETS,
      registers,
    }),
    eventsApplied: new Counter({
      name: 'steward_events_applied_total',
      help: 'Events applied to pipeline runs',
      labelNames: ['type'],
      registers,
    }),
    predictions: new Counter({
      name: 'steward_predictions_total',
      help: 'Rows predicted',
      labelNames: ['model', 'version', 'role'],
      registers,
    }),
    predictionDuration: new Histogram({
      name: 'steward_prediction_duration_seconds',
      help: 'Time to answer a prediction request',
      labelNames: ['model', 'version'],
      buckets: PREDICT_BUCKETS,
      registers,
    }),
    errors: new Counter({
      name: 'steward_errors_total',
      help: 'Errors, by Steward error code',
      labelNames: ['code'],
      registers,
    }),
    predictionLogDropped: new Counter({
      name: 'steward_prediction_log_dropped_total',
      help: 'Prediction log rows dropped because the write buffer was full',
      labelNames: ['model'],
      registers,
    }),
    predictionLogWritten: new Counter({
      name: 'steward_prediction_log_written_total',
      help: 'Prediction log rows written',
      labelNames: ['model'],
      registers,
    }),
    alerts: new Counter({
      name: 'steward_drift_alerts_total',
      help: 'Drift alert pages sent, resolved and snoozed',
      labelNames: ['pipeline', 'kind'],
      registers,
    }),
    gauge(name, help, labelNames, collect) {
      new Gauge({
        name,
        help,
        labelNames: [...labelNames],
        registers,
        async collect() {
          this.reset();
          for (const { labels, value } of await collect()) this.set(labels, value);
        },
      });
    },
  };
}
