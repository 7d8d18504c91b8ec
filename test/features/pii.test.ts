import { describe, expect, it } from 'vitest';
import type { FeaturesSpecInput } from '../../src/stages/features/features-spec.ts';
import { applyTransform, fitTransform } from '../../src/stages/features/transform.ts';
import { table } from './table-fixture.ts';

/**
 * The PII guarantee: a column listed under `pii` or `drop` leaves its NAME in the
 * transform's `dropped` list and nothing else — no value, statistic or vocabulary.
 */
const emails = ['alice@example.com', 'bob@example.org', 'carol@example.net', 'dave@example.com'];
const ssns = ['123-45-6789', '987-65-4321', '555-12-3456', '000-11-2222'];
const secrets = ['s3cr3t-token-a', 's3cr3t-token-b', 's3cr3t-token-c', 's3cr3t-token-d'];
const incomes = [91_234.5, 12_345.25, 77_777.75, 31_415.5];
const data = table(
  {
    email: emails,
    ssn: ssns,
    income: incomes,
    memo: secrets,
    age: [31, 45, 27, 60],
    plan: ['basic', 'premium', 'basic', 'pro'],
    churned: ['no', 'yes', 'no', 'yes'],
  },
  { memo: 'categorical' },
);
const forbidden = [...emails, ...ssns, ...secrets, ...incomes.map(String), 'example', '@'];

const modes: [string, FeaturesSpecInput][] = [
  ['automatic selection', { pii: ['email', 'ssn', 'income'], drop: ['memo'] }],
  [
    'explicit lists',
    { numeric: ['age'], categorical: ['plan'], pii: ['email', 'ssn', 'income'], drop: ['memo'] },
  ],
  [
    'most_frequent and minmax',
    {
      pii: ['email', 'ssn', 'income'],
      drop: ['memo'],
      impute: { categorical: 'most_frequent' },
      scale: 'minmax',
    },
  ],
];

describe('PII and dropped columns', () => {
  for (const [mode, spec] of modes) {
    it(`keeps only their names, in dropped, with ${mode}`, () => {
      const json = JSON.stringify(fitTransform(data, { target: 'churned', task: 'classification', spec }));
      for (const value of forbidden) expect(json).not.toContain(value);
      const parsed = JSON.parse(json);
      expect(parsed.dropped).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'email', reason: 'pii' }),
          expect.objectContaining({ name: 'ssn', reason: 'pii' }),
          expect.objectContaining({ name: 'income', reason: 'pii' }),
          expect.objectContaining({ name: 'memo', reason: 'drop' }),
        ]),
      );
      // Each excluded name occurs exactly once: its `dropped` entry.
      for (const name of ['email', 'ssn', 'income', 'memo']) {
        expect(json.split(`"${name}"`).length - 1).toBe(1);
      }
    });
  }

  it('never reads PII values, so even unreadable ones cannot fail or leak', () => {
    const hostile = table({
      email: ['__other__', '__missing__', 'x@y.z', 'x@y.z'],
      age: [1, 2, 3, 4],
      y: [1, 2, 3, 4],
    });
    const t = fitTransform(hostile, { target: 'y', task: 'regression', spec: { pii: ['email'] } });
    expect(JSON.stringify(t)).not.toContain('x@y.z');
  });

  it('ignores PII fields a serving client sends along', () => {
    const t = fitTransform(data, {
      target: 'churned',
      task: 'classification',
      spec: { pii: ['email', 'ssn', 'income'], drop: ['memo'] },
    });
    const m = applyTransform(t, [{ email: 'eve@example.com', age: 40, plan: 'basic' }]);
    expect(m.cols).toBe(t.features.length);
  });
});
