import { StewardError } from '../../errors.ts';
import { MISSING, OTHER } from './feature-names.ts';
import type { FeaturesSpec } from './features-spec.ts';
import type { CategoricalStep } from './transform-schema.ts';

/**
 * Fits the vocabulary of one categorical column: the `topK` most frequent categories,
 * ties broken by plain code-unit order (not `localeCompare`, so the result does not depend
 * on the server's locale). Returns null when the column is constant after imputation:
 * one category and no missing values, or with `'most_frequent'` one category at all.
 */
export function fitCategorical(
  name: string,
  values: readonly (string | null)[],
  impute: FeaturesSpec['impute']['categorical'],
  topK: number,
): CategoricalStep | null {
  const counts = new Map<string, number>();
  let missing = 0;
  for (const value of values) {
    if (value === null) missing++;
    else counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  for (const reserved of [OTHER, MISSING]) {
    if (counts.has(reserved)) {
      throw new StewardError(
        'BAD_REQUEST',
        `column "${name}" contains the value "${reserved}", which Steward reserves for its own buckets: rename it in the data`,
      );
    }
  }
  const distinct = counts.size + (impute === 'missing' && missing > 0 ? 1 : 0);
  if (distinct <= 1) return null;
  const categories = [...counts]
    .sort(([a, ca], [b, cb]) => cb - ca || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, topK)
    .map(([category]) => category);
  return { name, kind: 'categorical', categories, impute };
}
