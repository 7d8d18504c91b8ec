import { describe, expect, it } from 'vitest';
import { FeaturesSpec } from '../../src/stages/features/features-spec.ts';

describe('FeaturesSpec', () => {
  it('fills documented defaults and leaves the column lists unset (automatic selection)', () => {
    expect(FeaturesSpec.parse({})).toEqual({
      drop: [],
      pii: [],
      impute: { numeric: 'mean', categorical: 'missing' },
      scale: 'standard',
      one_hot: { top_k: 20 },
    });
    expect(FeaturesSpec.parse({ impute: { numeric: 'median' }, one_hot: {} })).toMatchObject({
      impute: { numeric: 'median', categorical: 'missing' },
      one_hot: { top_k: 20 },
    });
  });

  it('is strict and checks values', () => {
    expect(FeaturesSpec.safeParse({ scaling: 'standard' }).success).toBe(false);
    expect(FeaturesSpec.safeParse({ impute: { numeric: 'mode' } }).success).toBe(false);
    expect(FeaturesSpec.safeParse({ one_hot: { top_k: 0 } }).success).toBe(false);
    expect(FeaturesSpec.safeParse({ one_hot: { top_k: 2.5 } }).success).toBe(false);
  });

  it('rejects a column that is both used and excluded, or both kinds', () => {
    const result = FeaturesSpec.safeParse({
      numeric: ['age', 'email'],
      categorical: ['age'],
      pii: ['email'],
    });
    expect(result.success).toBe(false);
    const messages = result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    expect(messages).toEqual([
      'numeric.1: "email" is also listed under drop or pii: a column cannot be both used and excluded',
      'categorical.0: "age" is listed as both numeric and categorical: keep one',
    ]);
  });

  it('accepts its own output again unchanged', () => {
    const once = FeaturesSpec.parse({ categorical: ['plan'], scale: 'minmax' });
    expect(FeaturesSpec.parse(once)).toEqual(once);
  });
});
