import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.ts';
import { StewardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import type { FeatureRow } from '../features/input.ts';
import { type FeedbackRequest, labelPredictions, normalizeLabel } from './feedback.ts';
import type { LoadedModel } from './loaded-model.ts';
import type { ModelCache, Serving } from './model-cache.ts';
import { predictionJson, type RowOutcome, scoreRows } from './predict.ts';
import type { LogEntry, PredictionLog, Role } from './prediction-log.ts';
import { entityKeyOf, type Headers, isCanary, isSampled } from './split.ts';

export type PredictRequest = {
  /** The pipeline whose model answers. */
  model: string;
  /** Rows of `{feature: value}`; fields the model does not read are ignored (and never logged). */
  rows: readonly unknown[];
  /** A specific version instead of the alias (no canary split, no shadow). */
  version?: number;
  /** Request headers, for a `header:<name>` canary key. */
  headers?: Headers;
  /** The id feedback refers to. @default a new UUID */
  requestId?: string;
};

/** One row's answer and the version that gave it. */
export type RowAnswer = { outcome: RowOutcome; model: LoadedModel; role: Role | undefined };

export type PredictResult = {
  requestId: string;
  model: string;
  /** The production version, or the pinned one. */
  version: number;
  rows: RowAnswer[];
  /** The version that answered every row, or the production one when a canary split the batch. */
  answeredBy: number;
};

export type ServingService = {
  readonly cache: ModelCache;
  readonly predictionLog: PredictionLog;
  predict(request: PredictRequest): Promise<PredictResult>;
  /** Labels the logged rows of a request; NOT_FOUND when none are logged. */
  feedback(request: FeedbackRequest): Promise<{ updated: number; label: string | number }>;
  /** Waits for shadow scoring still running off the response path (tests, shutdown). */
  settle(): Promise<void>;
};

export type ServingOptions = {
  database: Database;
  cache: ModelCache;
  predictionLog: PredictionLog;
  metrics: Pick<Metrics, 'predictions' | 'predictionDuration' | 'errors'>;
  log: Logger;
  /** The canary's coin for rows without an entity key. @default Math.random */
  random?: () => number;
};

/** A logged copy of a row: only the fields the transform reads, so dropped (PII) fields never reach the log. */
function loggedFeatures(loaded: LoadedModel, row: unknown): Record<string, unknown> {
  const features: Record<string, unknown> = {};
  for (const name of loaded.inputs) features[name] = (row as FeatureRow)[name] ?? null;
  return features;
}

/**
 * Answers predictions with what the cache holds: production's version, the canary for
 * its share of entity keys, and the shadow scored beside it after the answer is made.
 * Sampled rows of every role go to the prediction log; the request never waits for it.
 */
export function createServing(options: ServingOptions): ServingService {
  const { database, cache, predictionLog, metrics, log } = options;
  const random = options.random ?? Math.random;
  const shadows = new Set<Promise<void>>();

  function logRows(
    serving: Serving,
    requestId: string,
    rows: readonly unknown[],
    answers: readonly RowAnswer[],
  ): void {
    if (!isSampled(requestId, serving.monitoring.sample_rate)) return;
    // Rows the buffer cannot take are counted, not built (a full buffer is the busy case).
    const room = predictionLog.room();
    let skipped = 0;
    const entries: LogEntry[] = [];
    answers.forEach(({ outcome, model, role }, row) => {
      if (!outcome.ok || !role) return;
      if (entries.length >= room) {
        skipped += 1;
        return;
      }
      entries.push({
        requestId,
        row,
        pipeline: serving.pipeline,
        version: model.version,
        role,
        features: loggedFeatures(model, rows[row]),
        prediction: predictionJson(model, outcome.prediction),
      });
    });
    if (entries.length > 0) predictionLog.record(entries);
    if (skipped > 0) predictionLog.drop(serving.pipeline, skipped);
  }

  function count(answers: readonly RowAnswer[], pipeline: string): void {
    const counts = new Map<string, { version: number; role: Role; n: number }>();
    for (const { outcome, model, role } of answers) {
      if (!outcome.ok) continue;
      const r = role ?? 'production';
      const key = `${model.version}/${r}`;
      const entry = counts.get(key) ?? { version: model.version, role: r, n: 0 };
      entry.n += 1;
      counts.set(key, entry);
    }
    for (const { version, role, n } of counts.values()) {
      metrics.predictions.inc({ model: pipeline, version: String(version), role }, n);
    }
  }

  /** Scores `rows` with the chosen model of each, one batch per version. */
  function answer(
    rows: readonly unknown[],
    chosen: readonly { model: LoadedModel; role: Role | undefined }[],
  ) {
    const answers: RowAnswer[] = new Array(rows.length);
    const groups = new Map<LoadedModel, number[]>();
    chosen.forEach(({ model }, i) => {
      const group = groups.get(model) ?? [];
      group.push(i);
      groups.set(model, group);
    });
    for (const [model, indices] of groups) {
      const outcomes =
        indices.length === rows.length
          ? scoreRows(model, rows)
          : scoreRows(
              model,
              indices.map((i) => rows[i]),
              indices,
            );
      indices.forEach((rowIndex, j) => {
        answers[rowIndex] = { outcome: outcomes[j] as RowOutcome, model, role: chosen[rowIndex]?.role };
      });
    }
    return answers;
  }

  function shadow(serving: Serving, candidate: LoadedModel, requestId: string, rows: readonly unknown[]) {
    const done = new Promise<void>((resolve) => {
      setImmediate(() => {
        try {
          const answers = answer(
            rows,
            rows.map(() => ({ model: candidate, role: 'shadow' as const })),
          );
          count(answers, serving.pipeline);
          logRows(serving, requestId, rows, answers);
        } catch (error) {
          log.warn('shadow scoring failed', {
            pipeline: serving.pipeline,
            version: candidate.version,
            error,
          });
        }
        resolve();
      });
    });
    shadows.add(done);
    void done.then(() => shadows.delete(done));
  }

  return {
    cache,
    predictionLog,
    async predict(request) {
      const started = performance.now();
      const requestId = request.requestId ?? randomUUID();
      const { rows } = request;
      const serving = await cache.get(request.model);
      let chosen: { model: LoadedModel; role: Role | undefined }[];
      if (request.version !== undefined) {
        const pinned = await cache.version(request.model, request.version);
        const role: Role | undefined =
          pinned === serving.production
            ? 'production'
            : pinned === serving.candidate
              ? serving.strategy === 'canary'
                ? 'canary'
                : 'shadow'
              : undefined;
        chosen = rows.map(() => ({ model: pinned, role }));
      } else if (serving.strategy === 'canary' && serving.candidate) {
        const canary = serving.candidate;
        chosen = rows.map((row) =>
          isCanary(
            serving.pipeline,
            entityKeyOf(serving.canaryKey, row as FeatureRow, request.headers ?? {}),
            serving.canaryPercent,
            random,
          )
            ? { model: canary, role: 'canary' as const }
            : { model: serving.production, role: 'production' as const },
        );
      } else {
        chosen = rows.map(() => ({ model: serving.production, role: 'production' as const }));
      }
      const answers = answer(rows, chosen);
      const version = request.version ?? serving.production.version;
      const versions = new Set(answers.filter((a) => a.outcome.ok).map((a) => a.model.version));
      const answeredBy = versions.size === 1 ? ([...versions][0] as number) : version;
      count(answers, serving.pipeline);
      logRows(serving, requestId, rows, answers);
      if (request.version === undefined && serving.strategy === 'shadow' && serving.candidate) {
        shadow(serving, serving.candidate, requestId, rows);
      }
      metrics.predictionDuration.observe(
        { model: serving.pipeline, version: String(answeredBy) },
        (performance.now() - started) / 1000,
      );
      return { requestId, model: serving.pipeline, version, rows: answers, answeredBy };
    },
    async feedback(request) {
      const serving = await cache.get(request.pipeline);
      const label = normalizeLabel(serving.production, request.label);
      let updated = await labelPredictions(database.db, request, label);
      if (updated === 0) {
        // The prediction may still be in the write buffer.
        await predictionLog.flush();
        updated = await labelPredictions(database.db, request, label);
      }
      if (updated === 0) {
        throw new StewardError(
          'NOT_FOUND',
          `no logged prediction of ${request.pipeline} has request id ${request.requestId}${
            request.row === undefined ? '' : ` and row ${request.row}`
          }: the id is unknown, the request was sampled out (monitoring.sample_rate), or it is past monitoring.retention`,
        );
      }
      return { updated, label };
    },
    async settle() {
      while (shadows.size > 0) await Promise.all(shadows);
    },
  };
}
