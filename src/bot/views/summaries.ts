/**
 * Readers for the per-stage summaries a run carries (`RunView.summaries`). Summaries are
 * JSON written by stages, possibly by an older or newer Steward than the one drawing
 * them, so the views treat them as untrusted: every field is optional and an odd one
 * (a string where a number belongs, NaN stored as null) reads as missing instead of
 * failing the whole summary. A view then shows what is there and skips what is not.
 */
import { z } from 'zod';
import { orderMetrics } from './format.ts';

const num = z.number().optional().catch(undefined);
const str = z.string().optional().catch(undefined);
const bool = z.boolean().optional().catch(undefined);

/** An array whose malformed items are dropped one by one, not the whole list. */
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .array(z.unknown())
    .optional()
    .catch(undefined)
    .transform((items) =>
      (items ?? []).flatMap((value) => {
        const parsed = item.safeParse(value);
        return parsed.success ? [parsed.data as z.output<T>] : [];
      }),
    );

/** Name → number, keeping only finite numbers (metrics; the confusion matrix and the like fall away). */
export const NumberRecord = z
  .record(z.string(), z.unknown())
  .optional()
  .catch(undefined)
  .transform((record) =>
    Object.fromEntries(
      Object.entries(record ?? {}).filter(
        (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
      ),
    ),
  );
export type NumberRecord = z.output<typeof NumberRecord>;

/** Any object, for model params shown as `key=value`. */
const AnyRecord = z.record(z.string(), z.unknown()).optional().catch(undefined);

export const IngestSummary = z.object({ dataset: str, rows: num, columns: num, piiRemoved: num });
export type IngestSummary = z.output<typeof IngestSummary>;

export const CheckLine = z.object({
  check: z.string().catch('check'),
  column: z.string().nullable().optional().catch(undefined),
  passed: z.boolean().catch(false),
  observed: z.unknown().transform((v) => (v === undefined || v === null ? undefined : String(v))),
});
export type CheckLine = z.output<typeof CheckLine>;

export const ChecksSummary = z.object({ passed: num, failed: num, results: listOf(CheckLine) });
export type ChecksSummary = z.output<typeof ChecksSummary>;

/** Passed and failed counts, from the totals when given, else counted from the results. */
export function checkCounts(s: ChecksSummary): { passed: number; failed: number } {
  const failed = s.failed ?? s.results.filter((r) => !r.passed).length;
  return { passed: s.passed ?? s.results.length - failed, failed };
}

export const FeaturesSummary = z.object({ features: num, inputs: num, dropped: listOf(z.string()) });
export type FeaturesSummary = z.output<typeof FeaturesSummary>;

export const TrainSummary = z.object({
  model: str,
  params: AnyRecord,
  trainRows: num,
  seconds: num,
  tuning: z.object({ metric: str, bestScore: num, trials: num }).optional().catch(undefined),
});
export type TrainSummary = z.output<typeof TrainSummary>;

export const ThresholdLine = z.object({
  metric: z.string(),
  threshold: num,
  value: z.number().nullable().optional().catch(undefined),
  passed: bool,
  gap: z.number().nullable().optional().catch(undefined),
});
export type ThresholdLine = z.output<typeof ThresholdLine>;

export const EvaluateSummary = z.object({
  metrics: NumberRecord,
  thresholds: listOf(ThresholdLine),
  champion: z
    .object({ version: num, metrics: NumberRecord.nullable().catch(null), note: str })
    .nullable()
    .optional()
    .catch(undefined),
  comparison: z
    .object({ metric: z.string(), challenger: z.number(), champion: z.number(), delta: z.number() })
    .nullable()
    .optional()
    .catch(undefined),
  cv: z.object({ folds: num, mean: NumberRecord }).nullable().optional().catch(undefined),
  holdoutRows: num,
  /** The model version the run registered (added by the stage store). */
  version: num,
});
export type EvaluateSummary = z.output<typeof EvaluateSummary>;

/** `'v3'` or `3` as a version number; undefined for anything else. */
const versionNumber = z
  .union([z.string(), z.number()])
  .optional()
  .catch(undefined)
  .transform((value) => {
    const n = typeof value === 'number' ? value : Number(String(value ?? '').replace(/^v/i, ''));
    return value !== undefined && value !== '' && Number.isInteger(n) && n > 0 ? n : undefined;
  });

/**
 * What a deploy stage left serving (`DeploySummary` in stages/deploy-plan.ts): production,
 * and the candidate beside it with the strategy that put it there. Summaries written before
 * strategies existed hold only `{ production: 'v3' }`: they read as a replace.
 */
export const DeploySummary = z.object({
  production: versionNumber,
  strategy: z.enum(['replace', 'shadow', 'canary']).catch('replace'),
  candidate: versionNumber,
  percent: num,
  /** Why nothing changed, when nothing did. */
  unchanged: str,
});
export type DeploySummary = z.output<typeof DeploySummary>;

/**
 * The curves the evaluate stage stores in its output (`curves`, see
 * stages/evaluate/curves.ts) for the approval chart. Runs evaluated before curves existed
 * have none, and a curve that does not hold together (a count beyond its total, too few
 * points) reads as missing: no chart rather than a wrong one.
 */
const Count = z.number().int().min(0);
export const RocCounts = z
  .object({
    kind: z.literal('roc'),
    positive: z.string().catch('positive'),
    negatives: z.number().int().positive(),
    positives: z.number().int().positive(),
    points: z.array(z.tuple([Count, Count])).min(2),
    auc: num,
  })
  .refine((c) => c.points.every(([fp, tp]) => fp <= c.negatives && tp <= c.positives));
export type RocCounts = z.output<typeof RocCounts>;

const Finite = z.number().refine(Number.isFinite);
export const PredictedPairs = z.object({
  kind: z.literal('predicted_vs_actual'),
  rows: num,
  points: z.array(z.tuple([Finite, Finite])).min(1),
});
export type PredictedPairs = z.output<typeof PredictedPairs>;

const Curve = z.union([RocCounts, PredictedPairs]);
export const EvaluateCurves = z.object({
  candidate: Curve,
  production: Curve.nullable().optional().catch(null),
});
export type EvaluateCurves = z.output<typeof EvaluateCurves>;

/** An MLP's loss per epoch (`history` in the train stage's output); the losses of epochs 1, 2, … */
export const TrainHistory = z
  .object({
    loss: z.array(Finite).min(1),
    valLoss: z.array(Finite).optional().catch(undefined),
    bestEpoch: num,
  })
  .transform((h) => ({
    ...h,
    // A validation series of another length is not per epoch: leave it out.
    valLoss: h.valLoss?.length === h.loss.length ? h.valLoss : undefined,
  }));
export type TrainHistory = z.output<typeof TrainHistory>;

const read =
  <T extends z.ZodType>(schema: T) =>
  (summary: unknown): z.output<T> | null => {
    const parsed = schema.safeParse(summary);
    return parsed.success ? parsed.data : null;
  };

/** Each returns the summary with odd fields dropped, or null when it is not an object at all. */
export const readIngest = read(IngestSummary);
export const readChecks = read(ChecksSummary);
export const readFeatures = read(FeaturesSummary);
export const readTrain = read(TrainSummary);
export const readEvaluate = read(EvaluateSummary);
export const readDeploy = read(DeploySummary);
/** Read from the stage outputs (`curves` of evaluate, `history` of train), not the summaries. */
export const readCurves = read(EvaluateCurves);
export const readHistory = read(TrainHistory);

/** The metric a run is judged on: the production comparison's, else the first one shown. */
export function headlineMetric(
  evaluate: EvaluateSummary | null,
): { name: string; value: number } | undefined {
  if (!evaluate) return undefined;
  const name = evaluate.comparison?.metric ?? orderMetrics(Object.keys(evaluate.metrics))[0];
  if (name === undefined) return undefined;
  const value = evaluate.metrics[name];
  return value === undefined ? undefined : { name, value };
}

export type MetricComparison = { name: string; value?: number; production?: number; delta?: number };

/**
 * This run's metrics beside production's on the same holdout, in display order, with
 * `also` (threshold metrics, say) listed even where neither has a value. The delta is
 * rounded to 6 places so a tie reads as one.
 */
export function compareMetrics(evaluate: EvaluateSummary, also: Iterable<string> = []): MetricComparison[] {
  const prod = evaluate.champion?.metrics ?? {};
  const names = orderMetrics(new Set([...Object.keys(evaluate.metrics), ...Object.keys(prod), ...also]));
  return names.map((name) => {
    const value = evaluate.metrics[name];
    const production = prod[name];
    return {
      name,
      ...(value !== undefined ? { value } : {}),
      ...(production !== undefined ? { production } : {}),
      ...(value !== undefined && production !== undefined
        ? { delta: Math.round((value - production) * 1e6) / 1e6 }
        : {}),
    };
  });
}
