import type { DriftTest } from './types.ts';

/** Up to this many reference values a column is tested (KS, chi-square, z); above it, measured by a distance. */
export const SMALL_REFERENCE = 1000;
/** A numeric column with at most this many distinct values (both sides together) is treated as categorical. */
export const FEW_VALUES = 5;

export type TestChoice = { test: DriftTest; reason: string };

/**
 * Evidently's default drift test for a column (`_get_default_stattest` in
 * `evidently/legacy/calculations/stattests/registry.py`), where `distinct` counts the
 * distinct values of both sides together:
 *
 * | reference values | numeric, > 5 distinct | numeric ≤ 5 distinct, or categorical |
 * |---|---|---|
 * | ≤ 1000 | KS | chi-square; z-test when ≤ 2 distinct |
 * | > 1000 | Wasserstein normed by the reference std | Jensen–Shannon |
 *
 * Evidently counts the rows of the column after dropping missing values; so does this.
 */
export function chooseTest(
  kind: 'numeric' | 'categorical',
  referenceCount: number,
  distinct: number,
): TestChoice {
  const small = referenceCount <= SMALL_REFERENCE;
  const size = `reference ${small ? '≤' : '>'} ${SMALL_REFERENCE} values (${referenceCount})`;
  const values = `${distinct} distinct value${distinct === 1 ? '' : 's'}`;
  if (kind === 'numeric' && distinct > FEW_VALUES) {
    return small
      ? { test: 'ks', reason: `${size}, numeric with ${values}` }
      : { test: 'wasserstein', reason: `${size}, numeric with ${values}` };
  }
  const what =
    kind === 'numeric' ? `numeric with only ${values} (≤ ${FEW_VALUES}), treated as categorical` : values;
  if (!small) return { test: 'jensenshannon', reason: `${size}, ${what}` };
  return distinct > 2
    ? { test: 'chisquare', reason: `${size}, ${what}` }
    : { test: 'z', reason: `${size}, ${what}` };
}
