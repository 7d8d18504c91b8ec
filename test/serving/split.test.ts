import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/stages/ml/random.ts';
import { entityKeyOf, isCanary, isSampled, unitHash } from '../../src/stages/serve/split.ts';

describe('canary split and sampling', () => {
  it('sends the same key to the same side always, and about percent of keys to the canary', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `C${String(i + 1).padStart(6, '0')}`);
    for (const percent of [5, 10, 30, 50, 90]) {
      const share = keys.filter((k) => isCanary('churn', k, percent)).length / keys.length;
      expect(Math.abs(share * 100 - percent)).toBeLessThanOrEqual(3);
    }
    for (const key of keys.slice(0, 50)) {
      const first = isCanary('churn', key, 30);
      for (let i = 0; i < 5; i++) expect(isCanary('churn', key, 30)).toBe(first);
    }
    // Raising the percentage only moves keys to the canary.
    expect(keys.filter((k) => isCanary('churn', k, 10) && !isCanary('churn', k, 20))).toEqual([]);
  });

  it('splits rows without a key with the random coin, and never at 0 or always at 100', () => {
    const rng = createRng(1);
    const random = () => rng.next();
    const share = Array.from({ length: 2000 }, () => isCanary('churn', undefined, 25, random)).filter(
      Boolean,
    ).length;
    expect(Math.abs(share / 20 - 25)).toBeLessThanOrEqual(3);
    expect(isCanary('churn', 'a', 0)).toBe(false);
    expect(isCanary('churn', 'a', 100)).toBe(true);
  });

  it('reads the key from the row field or the header canary_key names', () => {
    expect(entityKeyOf('customer_id', { customer_id: 'C1' }, {})).toBe('C1');
    expect(entityKeyOf('customer_id', { customer_id: 17 }, {})).toBe('17');
    expect(entityKeyOf('customer_id', { customer_id: null }, {})).toBeUndefined();
    expect(entityKeyOf('header:X-Customer-Id', {}, { 'x-customer-id': 'C9' })).toBe('C9');
    expect(entityKeyOf('header:X-Customer-Id', {}, {})).toBeUndefined();
    expect(entityKeyOf(null, { customer_id: 'C1' }, {})).toBeUndefined();
  });

  it('samples by request id at the given rate, and spreads hashes evenly', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `req-${i}`);
    const sampled = ids.filter((id) => isSampled(id, 0.1)).length;
    expect(sampled).toBeGreaterThan(900);
    expect(sampled).toBeLessThan(1100);
    expect(isSampled('x', 1)).toBe(true);
    expect(isSampled('x', 0)).toBe(false);
    const buckets = new Array(10).fill(0);
    for (const id of ids) buckets[Math.floor(unitHash(id) * 10)] += 1;
    for (const n of buckets) expect(Math.abs(n - 1000)).toBeLessThan(120);
  });
});
