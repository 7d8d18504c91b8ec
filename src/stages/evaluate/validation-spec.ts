import { z } from 'zod';
import { METRIC } from './score.ts';

/**
 * The `validation` section of a pipeline spec.
 * - `holdout`: share of rows kept out of training for evaluation (stratified for
 *   classification). Default 0.2.
 * - `folds`: k-fold cross-validation on the training part when ≥ 2, reported beside the
 *   holdout metrics. Default 0 (off).
 * - `thresholds`: gates on holdout metrics: minimums, or maximums for rmse, mae, log_loss.
 * - `must_beat_production`: a metric on which the new model must beat the production
 *   version, both scored on the same holdout rows.
 * - `seed`: the split's seed, so a run is reproducible. Default 42.
 */
export const ValidationSpec = z
  .object({
    holdout: z.number().gt(0).lt(1).default(0.2),
    folds: z.number().int().min(0).max(20).default(0),
    thresholds: z.partialRecord(METRIC, z.number()).default({}),
    must_beat_production: METRIC.optional(),
    seed: z.number().int().default(42),
  })
  .strict()
  .refine((v) => v.folds !== 1, { message: 'folds must be 0 (off) or at least 2', path: ['folds'] });
export type ValidationSpec = z.infer<typeof ValidationSpec>;
