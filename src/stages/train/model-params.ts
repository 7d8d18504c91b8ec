import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { anyInt, atLeast, atMost, boundedInt } from '../bounded.ts';

const Seed = anyInt().default(42);
const Flag = z.boolean({ error: 'expected true or false' });
const Positive = (what = 'a number') =>
  z
    .number({ error: `expected ${what}` })
    .positive({ error: (i) => `must be above 0 (got ${String(i.input)})` });

/**
 * The largest value each size-like parameter may take, in a spec's `model.params` and as a
 * run param. They keep one request from taking the machine (Steward's reference machine
 * has 24 GiB and 2 cores, and stages run in worker threads of the server's process), and
 * they are far above what these models need: scikit-learn's defaults are 100 trees, 100
 * iterations, 31 leaves. Measured on that machine:
 *
 * - `n_estimators` ≤ 2000. A fully grown tree (no `max_depth`, `min_samples_leaf` 1) is
 *   about 32 bytes per training row in JSON: 650 KB at 20,000 rows. 2000 of them on the
 *   2,000-row synthetic default are about 100 MB; on more data, cap `max_depth` or raise
 *   `min_samples_leaf` (the model is stored as one JSON document). Unbounded,
 *   `n_estimators=100000000` took the server to 1.7 GB in 12 s: the forest first draws
 *   one seed per tree, an array of 10⁸ numbers, before it grows any.
 * - `max_iter` ≤ 10,000. Boosting keeps one tree per round: 31 leaves is 1.5 KB, so 10,000
 *   rounds is 15 MB, and a round on 20,000 rows × 20 features takes about 10 ms (100 s
 *   for 10,000). Logistic regression's iterations cost time, not memory.
 * - `max_leaf_nodes` ≤ 1024. Each open leaf keeps a gradient histogram of features × 256
 *   bins × 24 bytes (123 KB at 20 features, 1.2 MB at 200): 1024 leaves at 200 features is
 *   1.3 GB; measured 134 MB at 20 features.
 * - `max_depth` ≤ 64: a tree is at most as deep as it has rows to split, and deeper than 64
 *   is "unlimited" for any dataset Steward holds (set no `max_depth` for that).
 * - `k` ≤ 1000: each query keeps its k nearest rows; 2,000 queries over 20,000 rows take
 *   1.9 s at k = 1000 against 0.9 s at k = 5.
 * - `hidden` ≤ 8 layers of ≤ 1024 units, `batch_size` ≤ 4096, `epochs` ≤ 1000. The MLP
 *   trains on TensorFlow.js's wasm backend, whose heap cannot grow past 4 GiB; running out
 *   aborts the thread. Training peaked at about 70 bytes per weight (Adam's two moments,
 *   gradients and temporaries on top of the weight's own 4), and about 17 bytes per row ×
 *   unit of a batch: 8 × 1024 units (7.3 M weights) peaked at 725 MB with batches of 256,
 *   so about 1.3 GB with batches of 4096; 8 × 2048 (29 M) at 2.5 GB with batches of 256;
 *   4 × 4096 (50 M) at 4 GB; 8 × 4096 (117 M) aborted. Epochs cost time, not memory.
 */
export const PARAM_LIMITS = {
  n_estimators: 2000,
  max_iter: 10_000,
  max_leaf_nodes: 1024,
  max_depth: 64,
  k: 1000,
  hidden_units: 1024,
  hidden_layers: 8,
  batch_size: 4096,
  epochs: 1000,
  early_stopping_patience: 1000,
} as const;
const L = PARAM_LIMITS;

/**
 * `model.params` per model type, as people write them (snake_case, scikit-learn's names
 * where there is one). Unknown parameters are errors, so a typo never silently trains
 * with a default. Sizes are bounded by PARAM_LIMITS.
 */
export const MODEL_PARAMS = {
  linear: z
    .object({
      alpha: z.number({ error: 'expected a number' }).min(0, atLeast(0)).default(0),
      fit_intercept: Flag.default(true),
    })
    .strict(),
  logistic: z
    .object({
      C: Positive().default(1),
      fit_intercept: Flag.default(true),
      max_iter: boundedInt(1, L.max_iter).default(100),
    })
    .strict(),
  gradient_boosting: z
    .object({
      max_iter: boundedInt(1, L.max_iter).default(100),
      learning_rate: Positive().default(0.1),
      max_leaf_nodes: boundedInt(2, L.max_leaf_nodes).default(31),
      max_depth: boundedInt(1, L.max_depth).optional(),
      min_samples_leaf: boundedInt(1, Number.MAX_SAFE_INTEGER).default(20),
      early_stopping: z
        .union([z.boolean(), z.literal('auto')], { error: 'expected true, false or auto' })
        .default('auto'),
      seed: Seed,
    })
    .strict(),
  random_forest: z
    .object({
      n_estimators: boundedInt(1, L.n_estimators).default(100),
      max_depth: boundedInt(1, L.max_depth).optional(),
      min_samples_leaf: boundedInt(1, Number.MAX_SAFE_INTEGER).default(1),
      max_features: z
        .union([z.enum(['sqrt', 'log2', 'third', 'all']), Positive()], {
          error: 'expected sqrt, log2, third, all, a fraction or a count',
        })
        .optional(),
      seed: Seed,
    })
    .strict(),
  knn: z
    .object({
      k: boundedInt(1, L.k).default(5),
      weights: z.enum(['uniform', 'distance'], { error: 'expected uniform or distance' }).default('uniform'),
    })
    .strict(),
  mlp: z
    .object({
      hidden: z
        .array(boundedInt(1, L.hidden_units, 'units per layer'), 'expected layer sizes such as [64, 32]')
        .max(L.hidden_layers, atMost(L.hidden_layers, 'layers'))
        .default([32, 16]),
      epochs: boundedInt(1, L.epochs).default(20),
      batch_size: boundedInt(1, L.batch_size).default(64),
      learning_rate: Positive().max(1, atMost(1)).default(0.001),
      activation: z.enum(['relu', 'tanh'], { error: 'expected relu or tanh' }).default('relu'),
      l2: z.number({ error: 'expected a number' }).min(0, atLeast(0)).default(0),
      seed: Seed,
      validation_split: z
        .number({ error: 'expected a number' })
        .min(0, atLeast(0))
        .max(0.5, atMost(0.5))
        .default(0),
      early_stopping_patience: boundedInt(0, L.early_stopping_patience).default(0),
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
