import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { describeIssues } from '../spec.ts';
import { featureNamesOf, MISSING, OTHER } from './feature-names.ts';

/**
 * The stored form of a fitted feature transform. It travels with the model (database row,
 * artefact file) and may come back edited or truncated, so serving reads it through
 * `loadFeatureTransform`, which checks every field and the invariants between them rather
 * than trusting a cast. All numbers are finite doubles, which JSON round-trips exactly, so
 * a reloaded transform produces bit-identical matrices.
 */
const Name = z.string().min(1);

/** Output = (value, or `impute` when missing, − center) / scale. */
const numericFields = {
  name: Name,
  impute: z.number(),
  center: z.number(),
  scale: z.number().positive(),
};
const NumericStep = z.object({ kind: z.literal('numeric'), ...numericFields }).strict();
/**
 * A boolean column (stored as 1 / 0): the same arithmetic as a numeric one, but it also
 * reads true/false/yes/no from a serving client, and nothing else that is not 0 or 1-like.
 */
const BooleanStep = z.object({ kind: z.literal('boolean'), ...numericFields }).strict();

/**
 * One-hot over `categories` (most frequent first), then `__other__`, then `__missing__`
 * when `impute` is `'missing'`. With `'most_frequent'`, a missing value counts as
 * `categories[0]`, the most frequent training category.
 */
const CategoricalStep = z
  .object({
    name: Name,
    kind: z.literal('categorical'),
    categories: z
      .array(z.string().min(1))
      .min(1)
      .refine((c) => new Set(c).size === c.length, 'categories must be distinct')
      .refine((c) => !c.includes(OTHER) && !c.includes(MISSING), `${OTHER} and ${MISSING} are reserved`),
    impute: z.enum(['most_frequent', 'missing']),
  })
  .strict();

const Step = z.discriminatedUnion('kind', [NumericStep, BooleanStep, CategoricalStep]);
export type NumericStep = z.infer<typeof NumericStep>;
export type BooleanStep = z.infer<typeof BooleanStep>;
export type CategoricalStep = z.infer<typeof CategoricalStep>;
export type FeatureStep = z.infer<typeof Step>;

/** Classification keeps its class labels: class index k in `y` means `classes[k]`. */
const Target = z.discriminatedUnion('task', [
  z
    .object({
      name: Name,
      task: z.literal('classification'),
      classes: z
        .array(z.string())
        .min(1)
        .refine((c) => new Set(c).size === c.length, 'classes must be distinct'),
    })
    .strict(),
  z.object({ name: Name, task: z.literal('regression') }).strict(),
]);
export type TargetInfo = z.infer<typeof Target>;

export const DROP_REASONS = ['drop', 'pii', 'text', 'constant', 'unselected'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** A column that is not a feature, by name only: never its values or statistics. */
const Dropped = z.object({ name: Name, reason: z.enum(DROP_REASONS), note: z.string() }).strict();
export type DroppedColumn = z.infer<typeof Dropped>;

/** The fitting options, kept so a person can see how the numbers were made. No column names. */
const Options = z
  .object({
    impute: z
      .object({
        numeric: z.enum(['mean', 'median', 'zero']),
        categorical: z.enum(['most_frequent', 'missing']),
      })
      .strict(),
    scale: z.enum(['standard', 'minmax', 'none']),
    top_k: z.number().int().min(1),
  })
  .strict();

export const FeatureTransform = z
  .object({
    format: z.literal('steward.features'),
    version: z.literal(1),
    target: Target,
    options: Options,
    inputs: z.array(Step).min(1),
    /** Output column names, in matrix order; always equal to what `inputs` produce. */
    features: z.array(z.string()),
    dropped: z.array(Dropped),
  })
  .strict()
  .superRefine((t, ctx) => {
    const seen = new Set<string>();
    t.inputs.forEach((step, i) => {
      if (seen.has(step.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['inputs', i, 'name'],
          message: `"${step.name}" appears twice`,
        });
      }
      seen.add(step.name);
    });
    if (seen.has(t.target.name)) {
      ctx.addIssue({ code: 'custom', path: ['target', 'name'], message: 'the target cannot be an input' });
    }
    t.dropped.forEach((d, i) => {
      if (seen.has(d.name) || d.name === t.target.name) {
        ctx.addIssue({
          code: 'custom',
          path: ['dropped', i, 'name'],
          message: `"${d.name}" is dropped but also used`,
        });
      }
    });
    const expected = featureNamesOf(t.inputs);
    if (expected.length !== t.features.length || expected.some((name, i) => name !== t.features[i])) {
      ctx.addIssue({
        code: 'custom',
        path: ['features'],
        message: `does not match the inputs (expected ${expected.length} names starting ${JSON.stringify(expected.slice(0, 3))})`,
      });
    }
    if (new Set(expected).size !== expected.length) {
      ctx.addIssue({ code: 'custom', path: ['features'], message: 'feature names must be distinct' });
    }
  });
export type FeatureTransform = z.infer<typeof FeatureTransform>;

/**
 * Reads a stored transform, or throws a BAD_REQUEST that lists every bad field, so a
 * corrupted artefact stops serving with a reason instead of producing wrong features.
 */
export function loadFeatureTransform(json: unknown): FeatureTransform {
  const parsed = FeatureTransform.safeParse(json);
  if (!parsed.success) {
    throw new StewardError(
      'BAD_REQUEST',
      `stored feature transform is not valid:\n${describeIssues(parsed.error)
        .map((line) => `  ${line}`)
        .join('\n')}`,
    );
  }
  return parsed.data;
}
