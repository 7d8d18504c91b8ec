import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/stages/data/csv.ts';
import { contentHash } from '../../src/stages/data/hash.ts';
import {
  type CategoricalProfile,
  type NumericProfile,
  OTHER,
  profileColumn,
  profileTable,
  type TextProfile,
} from '../../src/stages/data/profile.ts';
import { binCounts, quantileSorted, sampleStd } from '../../src/stages/data/stats.ts';
import { createTable, pickColumns } from '../../src/stages/data/table.ts';

const numeric = (values: number[]) =>
  profileColumn({ name: 'x', type: 'numeric', values: Float64Array.from(values) }) as NumericProfile;

describe('numeric profile', () => {
  it('matches hand-computed statistics for 1..10', () => {
    const profile = numeric([7, 3, 10, 1, 5, 2, 9, 4, 8, 6]);
    expect(profile).toMatchObject({ count: 10, missing: 0, missingShare: 0, mean: 5.5, min: 1, max: 10 });
    // Sample variance: sum of squared deviations 82.5 over n - 1 = 9.
    expect(profile.std).toBeCloseTo(Math.sqrt(82.5 / 9), 14);
    // numpy.quantile(range(1, 11), p): index h = 9p, interpolated between neighbours.
    const expected = { p01: 1.09, p05: 1.45, p25: 3.25, p50: 5.5, p75: 7.75, p95: 9.55, p99: 9.91 };
    for (const [key, value] of Object.entries(expected)) {
      expect(profile.quantiles?.[key as keyof typeof expected]).toBeCloseTo(value, 12);
    }
    // Deciles 1.9, 2.8, ..., 9.1 put one value in each of the ten bins.
    const cuts = profile.histogram?.cuts ?? [];
    expect(cuts).toHaveLength(9);
    cuts.forEach((cut, k) => {
      expect(cut).toBeCloseTo(1 + 0.9 * (k + 1), 12);
    });
    expect(profile.histogram?.counts).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('skips missing values and counts them', () => {
    const profile = numeric([4, Number.NaN, 1, 7, 2]);
    expect(profile).toMatchObject({ count: 4, missing: 1, missingShare: 0.2, mean: 3.5, min: 1, max: 7 });
    // Deviations -2.5, -1.5, 0.5, 3.5: squares sum to 21, over 3.
    expect(profile.std).toBeCloseTo(Math.sqrt(7), 14);
    expect(profile.quantiles?.p25).toBeCloseTo(1.75, 14);
    expect(profile.quantiles?.p50).toBeCloseTo(3, 14);
    expect(profile.quantiles?.p75).toBeCloseTo(4.75, 14);
    expect(profile.quantiles?.p01).toBeCloseTo(1.03, 14);
    expect(profile.quantiles?.p99).toBeCloseTo(6.91, 14);
    expect(profile.histogram?.counts.reduce((a, b) => a + b)).toBe(4);
  });

  it('merges tied cuts, and a 0/1 column keeps its two values apart', () => {
    // Deciles of six 0s and four 1s: 0 (five times), 0.4 (interpolated), 1 (three times).
    const profile = numeric([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(profile.histogram?.cuts).toEqual([0, 0.4, 1].map((cut) => expect.closeTo(cut, 12)));
    expect(profile.histogram?.counts).toEqual([0, 6, 0, 4]);
  });

  it('uses null, not NaN, where a statistic does not exist', () => {
    expect(numeric([3])).toMatchObject({ mean: 3, std: null, min: 3, max: 3 });
    expect(numeric([Number.NaN, Number.NaN])).toMatchObject({
      count: 0,
      missingShare: 1,
      mean: null,
      std: null,
      quantiles: null,
      histogram: null,
    });
    expect(JSON.stringify(profileTable(parseCsv('a,b\n1,\n2,\n')))).not.toContain('NaN');
  });

  it('bins later data with open outer bins', () => {
    expect(binCounts(Float64Array.from([-5, 1, 1.5, 2, 3, 99, Number.NaN]), [1, 2, 3])).toEqual([1, 2, 1, 2]);
  });

  it('has numpy-exact quantile and std helpers', () => {
    const sorted = Float64Array.from([10, 20, 30, 40]);
    expect(quantileSorted(sorted, 0)).toBe(10);
    expect(quantileSorted(sorted, 1)).toBe(40);
    expect(quantileSorted(sorted, 0.5)).toBe(25);
    expect(quantileSorted(new Float64Array(0), 0.5)).toBeNaN();
    expect(sampleStd(Float64Array.from([2, 4, 4, 4, 5, 5, 7, 9]))).toBeCloseTo(Math.sqrt(32 / 7), 14);
  });
});

describe('categorical profile', () => {
  it('gives frequencies of the non-missing values, most frequent first', () => {
    const profile = profileColumn({
      name: 'plan',
      type: 'categorical',
      values: ['b', 'a', 'a', null, 'c', 'a', 'b', 'd'],
    }) as CategoricalProfile;
    expect(profile).toEqual({
      name: 'plan',
      type: 'categorical',
      count: 7,
      missing: 1,
      missingShare: 0.125,
      distinct: 4,
      frequencies: [
        { value: 'a', count: 3, share: 3 / 7 },
        { value: 'b', count: 2, share: 2 / 7 },
        { value: 'c', count: 1, share: 1 / 7 },
        { value: 'd', count: 1, share: 1 / 7 },
      ],
    });
  });

  it('lists the top 50 categories and sums the rest as __other__', () => {
    // Category k appears k + 1 times, so the 10 rarest (k = 0..9) fall outside the top 50.
    const values = Array.from({ length: 60 }, (_, k) => Array<string>(k + 1).fill(`c${k}`)).flat();
    const profile = profileColumn({ name: 'c', type: 'categorical', values }) as CategoricalProfile;
    expect(profile.distinct).toBe(60);
    expect(profile.frequencies).toHaveLength(51);
    expect(profile.frequencies[0]).toMatchObject({ value: 'c59', count: 60 });
    expect(profile.frequencies[49]).toMatchObject({ value: 'c10', count: 11 });
    expect(profile.frequencies[50]).toEqual({ value: OTHER, count: 55, share: 55 / values.length });
  });

  it('always lists both boolean values', () => {
    const profile = profileColumn({
      name: 'active',
      type: 'boolean',
      values: Float64Array.from([1, 1, Number.NaN]),
    }) as CategoricalProfile;
    expect(profile.frequencies).toEqual([
      { value: 'true', count: 2, share: 1 },
      { value: 'false', count: 0, share: 0 },
    ]);
    expect(profile.missingShare).toBeCloseTo(1 / 3, 14);
  });

  it('keeps no values of text columns', () => {
    const profile = profileColumn({ name: 'email', type: 'text', values: ['a@x', 'b@x', null, 'a@x'] });
    expect(profile).toEqual({
      name: 'email',
      type: 'text',
      count: 3,
      missing: 1,
      missingShare: 0.25,
      distinct: 2,
    } satisfies TextProfile);
  });
});

describe('dataset profile and content hash', () => {
  const plain = 'id,score,name,ok\n1,1.0,"Smith, J",yes\n2,2.50,Bo,no\n3,,Al,\n';

  it('summarises the table', () => {
    const profile = profileTable(parseCsv(plain));
    expect(profile).toMatchObject({ rows: 3, columns: 4 });
    expect(profile.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(profile.profiles.map((column) => column.type)).toEqual([
      'numeric',
      'numeric',
      'categorical',
      'boolean',
    ]);
  });

  it('gives the same hash however the CSV is formatted', () => {
    const reference = contentHash(parseCsv(plain));
    const variants = [
      '"id","score","name","ok"\r\n"1","1","Smith, J","yes"\r\n"2","2.5","Bo","no"\r\n"3","NA","Al",""\r\n',
      '\ufeff id , score , name , ok \n 01 , 1e0 , "Smith, J" , YES \n\n2,+2.500,Bo,No\n3,?,Al,null',
      'id,score,name,ok\r1.00,10e-1,"Smith, J",Yes\r2,0.25e1,"Bo",NO\r3,NaN,"Al",?\r',
    ];
    for (const text of variants) expect(contentHash(parseCsv(text))).toBe(reference);
  });

  it('changes the hash when a value, a name or the column order changes', () => {
    const reference = contentHash(parseCsv(plain));
    expect(contentHash(parseCsv(plain.replace('2.50', '2.51')))).not.toBe(reference);
    expect(contentHash(parseCsv(plain.replace('Bo', 'Bob')))).not.toBe(reference);
    expect(contentHash(parseCsv(plain.replace('score', 'points')))).not.toBe(reference);
    expect(contentHash(parseCsv(plain.replace('3,,Al', '3,0,Al')))).not.toBe(reference);
    const table = parseCsv(plain);
    expect(contentHash(pickColumns(table, ['score', 'id', 'name', 'ok']))).not.toBe(reference);
  });

  it('keeps values apart that a naive join would merge', () => {
    const a = createTable([{ name: 's', type: 'categorical', values: ['a,b', 'c'] }]);
    const b = createTable([{ name: 's', type: 'categorical', values: ['a', 'b,c'] }]);
    const c = createTable([{ name: 's', type: 'categorical', values: ['null', null] }]);
    const d = createTable([{ name: 's', type: 'categorical', values: [null, 'null'] }]);
    expect(new Set([a, b, c, d].map(contentHash)).size).toBe(4);
  });

  it('hashes large tables in chunks with the same result as a fresh table', () => {
    const values = Float64Array.from({ length: 10_000 }, (_, i) => i / 7);
    const one = contentHash(createTable([{ name: 'v', type: 'numeric', values }]));
    const two = contentHash(createTable([{ name: 'v', type: 'numeric', values: values.slice() }]));
    expect(one).toBe(two);
  });
});
