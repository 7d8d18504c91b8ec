import { z } from 'zod';

/**
 * The `features` section of a pipeline spec. Every field is optional; defaults:
 *
 * - `numeric` / `categorical`: omitted → automatic selection: every column except the
 *   target, `drop` and `pii` is used with the type the data layer inferred (numeric →
 *   numeric; boolean → a 1/0 feature; categorical → one-hot; text → dropped, with a note). If
 *   either list is given the feature set is exactly the two lists, and every other column
 *   is dropped as `unselected`; a listed column is read with the kind it is listed under.
 * - `drop`: `[]`. Columns never used.
 * - `pii`: `[]`. Columns whose values are never read and never stored: only their names
 *   appear, in the transform's `dropped` list.
 * - `impute.numeric`: `'mean'` (scikit-learn SimpleImputer's default); `'median'` resists
 *   outliers; `'zero'` fills 0.
 * - `impute.categorical`: `'missing'` keeps "was missing" as its own `col=__missing__`
 *   feature, which is often predictive; `'most_frequent'` folds it into the top category.
 * - `scale`: `'standard'` (z-score with the population standard deviation, as
 *   scikit-learn's StandardScaler), because linear, logistic, k-NN and MLP models need
 *   comparable scales and trees are indifferent; `'minmax'` maps training range to [0, 1].
 * - `one_hot.top_k`: `20`. The most frequent categories per column get their own feature;
 *   the rest, and categories first seen at serving time, share `col=__other__`.
 *
 * The check that listed columns exist and are not the target needs the data, so it
 * happens when the transform is fitted.
 */
const Columns = z.array(z.string().min(1));

const Impute = z
  .object({
    numeric: z.enum(['mean', 'median', 'zero']).default('mean'),
    categorical: z.enum(['most_frequent', 'missing']).default('missing'),
  })
  .strict();

const OneHot = z
  .object({
    top_k: z.number().int().min(1).max(1000).default(20),
  })
  .strict();

export const FeaturesSpec = z
  .object({
    numeric: Columns.optional(),
    categorical: Columns.optional(),
    drop: Columns.default([]),
    pii: Columns.default([]),
    impute: Impute.prefault({}),
    scale: z.enum(['standard', 'minmax', 'none']).default('standard'),
    one_hot: OneHot.prefault({}),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const numeric = new Set(spec.numeric ?? []);
    const excluded = new Set([...spec.drop, ...spec.pii]);
    for (const [key, list] of [
      ['numeric', spec.numeric],
      ['categorical', spec.categorical],
    ] as const) {
      (list ?? []).forEach((name, index) => {
        if (key === 'categorical' && numeric.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [key, index],
            message: `"${name}" is listed as both numeric and categorical: keep one`,
          });
        }
        if (excluded.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [key, index],
            message: `"${name}" is also listed under drop or pii: a column cannot be both used and excluded`,
          });
        }
      });
    }
  });

/** The section after defaults are applied: what the transform code works with. */
export type FeaturesSpec = z.infer<typeof FeaturesSpec>;
/** The section as a person writes it (every field optional). */
export type FeaturesSpecInput = z.input<typeof FeaturesSpec>;
