import type { Database } from '../../db/client.ts';
import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { createModelCache, type ModelCacheOptions } from './model-cache.ts';
import { createPredictionLog, type PredictionLogOptions } from './prediction-log.ts';
import { createServing, type ServingService } from './serving.ts';

export type { LoadedModel } from './loaded-model.ts';
export type { ModelCache, Serving } from './model-cache.ts';
export type { LogEntry, PredictionLog } from './prediction-log.ts';
export type { PredictRequest, PredictResult, ServingService } from './serving.ts';

/** Model serving with its parts, started and stopped together. */
export type ServingStack = ServingService & {
  /** Listens for alias changes and starts the log's writes and pruning. */
  start(): Promise<void>;
  /** Waits for shadow scoring, writes the log's buffer, stops listening and frees the models. */
  stop(): Promise<void>;
};

export type ServingStackOptions = {
  database: Database;
  log: Logger;
  metrics: Metrics;
  cache?: Omit<ModelCacheOptions, 'database' | 'log'>;
  predictionLog?: Omit<PredictionLogOptions, 'database' | 'log' | 'metrics'>;
  /** The canary's coin for rows without an entity key. @default Math.random */
  random?: () => number;
};

/** Builds the model cache, the prediction log and the predict service over them. */
export function createServingStack(options: ServingStackOptions): ServingStack {
  const { database, log, metrics } = options;
  const cache = createModelCache({ database, log: log.child({ part: 'models' }), ...options.cache });
  const predictionLog = createPredictionLog({
    database,
    log: log.child({ part: 'prediction-log' }),
    metrics,
    ...options.predictionLog,
  });
  const service = createServing({
    database,
    cache,
    predictionLog,
    metrics,
    log: log.child({ part: 'serve' }),
    ...(options.random ? { random: options.random } : {}),
  });
  return {
    ...service,
    async start() {
      await cache.start();
      predictionLog.start();
    },
    async stop() {
      await service.settle();
      await predictionLog.stop();
      await cache.stop();
    },
  };
}
