/**
 * Output feature naming, shared by fitting and by the stored-transform check so a stored
 * `features` list can be verified against the steps that produce it.
 */

/** The bucket for categories outside the top k and categories first seen after fitting. */
export const OTHER = '__other__';
/** The bucket for missing values when `impute.categorical` is `'missing'`. */
export const MISSING = '__missing__';

export type NamedStep =
  | { name: string; kind: 'numeric' | 'boolean' }
  | { name: string; kind: 'categorical'; categories: readonly string[]; impute: 'most_frequent' | 'missing' };

/**
 * A numeric or boolean column keeps its name; a categorical column gives `col=value` for each kept
 * category, then `col=__other__`, then `col=__missing__` if missing values get their own
 * feature. This order is the column order of the matrix `applyTransform` builds.
 */
export function featureNamesOf(steps: readonly NamedStep[]): string[] {
  return steps.flatMap((step) =>
    step.kind !== 'categorical'
      ? [step.name]
      : [
          ...step.categories.map((c) => `${step.name}=${c}`),
          `${step.name}=${OTHER}`,
          ...(step.impute === 'missing' ? [`${step.name}=${MISSING}`] : []),
        ],
  );
}
