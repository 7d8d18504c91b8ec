import { and, eq, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { pipelines, predictions, productionModels } from '../../db/schema.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { monitoringOf } from './loaded-model.ts';

export type Role = 'production' | 'canary' | 'shadow';

/** One served row as the log keeps it. `features` holds only the transform's input fields. */
export type LogEntry = {
  requestId: string;
  row: number;
  pipeline: string;
  version: number;
  role: Role;
  features: Record<string, unknown>;
  prediction: unknown;
};

export type PredictionLog = {
  /** Queues rows for writing; never waits. Rows that do not fit the buffer are dropped and counted. */
  record(entries: readonly LogEntry[]): void;
  /** Writes everything queued so far. */
  flush(): Promise<void>;
  /** Deletes rows older than each pipeline's `monitoring.retention`; the number deleted. */
  prune(): Promise<number>;
  /** Starts the periodic writes and pruning (once now, then every `pruneEveryMs`). */
  start(): void;
  /** Stops the timers and writes what is still queued. */
  stop(): Promise<void>;
  /** Rows queued, not yet written. */
  pending(): number;
  /** Rows `record` takes now without dropping any; build no more entries than this. */
  room(): number;
  /** Counts rows dropped before they were built (beyond `room`), as `record` counts its own. */
  drop(pipeline: string, rows: number): void;
};

export type PredictionLogOptions = {
  database: Database;
  log: Logger;
  metrics: Pick<Metrics, 'predictionLogDropped' | 'predictionLogWritten'>;
  /** Rows the buffer holds before new ones are dropped. @default 20000 */
  capacity?: number;
  /**
   * Rows per INSERT. On PGlite a write holds the event loop for about 45 µs a row, so a
   * small batch keeps that pause short (about 2 ms) at the same cost per row. @default 50
   */
  batchSize?: number;
  /** How often queued rows are written. @default 250 */
  flushMs?: number;
  /** How often old rows are pruned. @default 3600000 (hourly) */
  pruneEveryMs?: number;
  /** At most one warning about dropped rows per this many ms. @default 10000 */
  warnEveryMs?: number;
};

/**
 * One INSERT of a whole batch with seven array parameters, one per column. drizzle's
 * `insert().values(batch)` sends seven parameters per row and builds them one by one; on
 * PGlite, which runs in this thread, that cost about 115 µs a row against 40 µs for this.
 */
const INSERT_ROWS = `insert into predictions (request_id, "row", pipeline, version, role, features, prediction)
  select * from unnest($1::text[], $2::int[], $3::text[], $4::int[], $5::text[], $6::jsonb[], $7::jsonb[])`;

/**
 * The prediction log's writer. Requests hand it rows and go on; it writes them in
 * batches through a bounded buffer, off the request path, so a slow or absent database
 * never holds up a prediction. What does not fit is dropped, counted on
 * `steward_prediction_log_dropped_total` and said in the log (at most every
 * `warnEveryMs`), never silently.
 */
export function createPredictionLog(options: PredictionLogOptions): PredictionLog {
  const { database, log, metrics } = options;
  const capacity = options.capacity ?? 20_000;
  const batchSize = options.batchSize ?? 50;
  const flushMs = options.flushMs ?? 250;
  const pruneEveryMs = options.pruneEveryMs ?? 3_600_000;
  const warnEveryMs = options.warnEveryMs ?? 10_000;

  let buffer: LogEntry[] = [];
  /** Rows the writer has taken from `buffer`; the first `written` of them are written. */
  let taken: LogEntry[] = [];
  let written = 0;
  /** Rows queued and not yet written, the ones being written included. */
  const queued = () => buffer.length + taken.length - written;
  let writing: Promise<void> | undefined;
  let flushTimer: NodeJS.Timeout | undefined;
  let pruneTimer: NodeJS.Timeout | undefined;
  let lastWarn = Number.NEGATIVE_INFINITY;
  const unreported = new Map<string, number>();

  function dropped(pipeline: string, rows: number, why: string): void {
    metrics.predictionLogDropped.inc({ model: pipeline }, rows);
    unreported.set(pipeline, (unreported.get(pipeline) ?? 0) + rows);
    const now = Date.now();
    if (now - lastWarn < warnEveryMs) return;
    lastWarn = now;
    log.warn(`prediction log rows dropped: ${why}`, { dropped: Object.fromEntries(unreported), capacity });
    unreported.clear();
  }

  async function writeBatch(batch: LogEntry[]): Promise<void> {
    try {
      await database.executor.executeSql(INSERT_ROWS, [
        batch.map((e) => e.requestId),
        batch.map((e) => e.row),
        batch.map((e) => e.pipeline),
        batch.map((e) => e.version),
        batch.map((e) => e.role),
        batch.map((e) => JSON.stringify(e.features)),
        batch.map((e) => JSON.stringify(e.prediction)),
      ]);
      const counts = new Map<string, number>();
      for (const entry of batch) counts.set(entry.pipeline, (counts.get(entry.pipeline) ?? 0) + 1);
      for (const [model, n] of counts) metrics.predictionLogWritten.inc({ model }, n);
    } catch (error) {
      log.error('prediction log write failed', { rows: batch.length, error });
      const counts = new Map<string, number>();
      for (const entry of batch) counts.set(entry.pipeline, (counts.get(entry.pipeline) ?? 0) + 1);
      for (const [model, n] of counts) dropped(model, n, 'the database refused a batch');
    }
  }

  /** Writes batches until the buffer is empty; one writer at a time. */
  function drain(): Promise<void> {
    writing ??= (async () => {
      try {
        while (buffer.length > 0) {
          // The whole buffer at once: slicing 50 rows off the front of 20,000 each time was quadratic.
          taken = buffer;
          buffer = [];
          for (written = 0; written < taken.length; ) {
            const batch = taken.slice(written, written + batchSize);
            await writeBatch(batch);
            written += batch.length;
            // PGlite executes in this thread: requests that arrived during the write go first.
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          taken = [];
          written = 0;
        }
      } finally {
        writing = undefined;
      }
    })();
    return writing;
  }

  async function prune(): Promise<number> {
    const db = database.db;
    const names = new Set<string>();
    for (const r of await db.select({ name: pipelines.name }).from(pipelines)) names.add(r.name);
    for (const r of await db.select({ name: productionModels.pipeline }).from(productionModels)) {
      names.add(r.name);
    }
    let deleted = 0;
    for (const pipeline of names) {
      const { retention } = await monitoringOf(db, pipeline, log);
      const gone = await db
        .delete(predictions)
        .where(
          and(
            eq(predictions.pipeline, pipeline),
            lt(predictions.createdAt, sql`now() - make_interval(secs => ${retention / 1000})`),
          ),
        )
        .returning({ id: predictions.id });
      deleted += gone.length;
    }
    if (deleted > 0) log.info('prediction log pruned', { deleted });
    return deleted;
  }

  const pruneQuietly = () =>
    prune().catch((error: unknown) => log.warn('prediction log pruning failed', { error }));

  return {
    record(entries) {
      const room = capacity - queued();
      if (entries.length <= room) buffer.push(...entries);
      else {
        if (room > 0) buffer.push(...entries.slice(0, room));
        const counts = new Map<string, number>();
        for (const entry of entries.slice(Math.max(0, room))) {
          counts.set(entry.pipeline, (counts.get(entry.pipeline) ?? 0) + 1);
        }
        for (const [pipeline, n] of counts) dropped(pipeline, n, 'the write buffer is full');
      }
      if (buffer.length >= batchSize && !writing) void drain();
    },
    async flush() {
      while (writing || buffer.length > 0) await drain();
    },
    prune,
    start() {
      if (flushTimer) return;
      flushTimer = setInterval(() => {
        if (buffer.length > 0 && !writing) void drain();
      }, flushMs);
      flushTimer.unref();
      void pruneQuietly();
      pruneTimer = setInterval(() => void pruneQuietly(), pruneEveryMs);
      pruneTimer.unref();
    },
    async stop() {
      clearInterval(flushTimer);
      clearInterval(pruneTimer);
      flushTimer = undefined;
      pruneTimer = undefined;
      while (writing || buffer.length > 0) await drain();
      if (unreported.size > 0) {
        log.warn('prediction log rows dropped', { dropped: Object.fromEntries(unreported), capacity });
        unreported.clear();
      }
    },
    room: () => Math.max(0, capacity - queued()),
    drop: (pipeline, rows) => dropped(pipeline, rows, 'the write buffer is full'),
    pending: queued,
  };
}
