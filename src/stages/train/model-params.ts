import { z } from 'zod';
import { StewardError } from '../../errors.ts';

const Seed = z.number().int().default(42);

/**
 * `model.params` per model type, as people write them (snake_case, scikit-learn's names
 * where there is one). Unknown parameters are errors, so a typo never silently trains
 * with a default.
 */
export const MODEL_PARAMS = {
  linear: z
    .object({ alpha: z.number().min(0).default(0), fit_intercept: z.boolean().default(true) })
    .strict(),
  logistic: z
    .object({
      C: z.number().positive().default(1),
      fit_intercept: z.boolean().default(true),
      max_iter: z.number().int().positive().default(100),
    })
    .strict(),
  gradient_boosting: z
    .object({
      max_iter: z.number().int().positive().default(100),
      learning_rate: z.number().positive().default(0.1),
      max_leaf_nodes: z.number().int().min(2).default(31),
      max_depth: z.number().int().positive().optional(),
      min_samples_leaf: z.number().int().positive().default(20),
      early_stopping: z.union([z.boolean(), z.literal('auto')]).default('auto'),
      seed: Seed,
    })
    .strict(),
  random_forest: z
    .object({
      n_estimators: z.number().int().positive().default(100),
      max_depth: z.number().int().positive().optional(),
      min_samples_leaf: z.number().int().positive().default(1),
      max_features: z.union([z.enum(['sqrt', 'log2', 'third', 'all']), z.number().positive()]).optional(),
      seed: Seed,
    })
    .strict(),
  knn: z
    .object({
      k: z.number().int().positive().default(5),
      weights: z.enum(['uniform', 'distance']).default('uniform'),
    })
    .strict(),
  mlp: z
    .object({
      hidden: z.array(z.number().int().positive(), 'expected array of positive integers').default([32, 16]),
      epochs: z.number().int().positive().default(20),
      batch_size: z.number().int().positive().default(64),
      learning_rate: z.number().positive().default(0.001),
      activation: z.enum(['relu', 'tanh']).default('relu'),
      l2: z.number().min(0).default(0),
      seed: Seed,
      validation_split: z.number().min(0).max(0.5).default(0),
      early_stopping_patience: z.number().int().min(0).default(0),
    })
    .strict(),
} as const;

export type ModelType = keyof typeof MODEL_PARAMS;
export type ModelParams<T extends ModelType> = z.infer<(typeof MODEL_PARAMS)[T]>;

/** Validates `model.params` for `type`; every problem is reported with its path. */
export function parseModelParams<T extends ModelType>(type: T, params: unknown): ModelParams<T> {
  const parsed = MODEL_PARAMS[type].safeParse(params ?? {});
  if (parsed.success) return parsed.data as ModelParams<T>;
  const problems = parsed.error.issues.map(
    (i) => `model.params.${i.path.join('.') || '(all)'}: ${i.message}`,
  );
  throw new StewardError('PIPELINE_INVALID', `model.params for ${type}:\n  ${problems.join('\n  ')}`);
}

/** Run params (`steward run churn epochs=30`) override `model.params`: strings are read as JSON where they parse. */
export function withRunOverrides(
  params: Record<string, unknown>,
  overrides: Record<string, string>,
  known: readonly string[],
) {
  const merged = { ...params };
  for (const [key, raw] of Object.entries(overrides)) {
    if (!known.includes(key)) continue;
    try {
      merged[key] = JSON.parse(raw);
    } catch {
      merged[key] = raw;
    }
  }
  return merged;
}
