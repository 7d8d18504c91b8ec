import { describe, expect, it } from 'vitest';
import { encodeTarget } from '../../src/stages/features/target.ts';
import { table } from './table-fixture.ts';

describe('encodeTarget', () => {
  it('codes string labels as indices into the sorted classes', () => {
    const data = table({ churned: ['yes', 'no', 'maybe', 'no'] });
    expect(encodeTarget(data, 'classification', { column: 'churned' })).toEqual({
      task: 'classification',
      classes: ['maybe', 'no', 'yes'],
      y: Float64Array.from([2, 1, 0, 1]),
    });
  });

  it('sorts numeric labels by value and booleans as text', () => {
    expect(encodeTarget(Float64Array.from([10, 2, 2]), 'classification')).toMatchObject({
      classes: ['2', '10'],
      y: Float64Array.from([1, 0, 0]),
    });
    expect(encodeTarget([true, false], 'classification')).toMatchObject({ classes: ['false', 'true'] });
  });

  it('codes against stored classes and rejects an unseen label', () => {
    expect(encodeTarget(['yes', 'yes'], 'classification', { classes: ['no', 'yes'] }).y).toEqual(
      Float64Array.from([1, 1]),
    );
    expect(() => encodeTarget(['maybe'], 'classification', { classes: ['no', 'yes'] })).toThrow(
      'has the label "maybe" at row 0, which the model was not trained on (classes: no, yes)',
    );
  });

  it('gives regression targets as numbers and rejects missing labels', () => {
    expect(encodeTarget(['1.5', 2], 'regression')).toEqual({
      task: 'regression',
      y: Float64Array.from([1.5, 2]),
    });
    expect(() => encodeTarget(table({ price: [1, null] }), 'regression', { column: 'price' })).toThrow(
      'target "price" is missing at row 1',
    );
    expect(() => encodeTarget(['a', null], 'classification')).toThrow('target "target" is missing at row 1');
    expect(() => encodeTarget(table({ price: [1] }), 'regression')).toThrow('needs the target column name');
  });
});
