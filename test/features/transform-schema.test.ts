import { describe, expect, it } from 'vitest';
import { isStewardError } from '../../src/errors.ts';
import { fitTransform } from '../../src/stages/features/transform.ts';
import { FeatureTransform, loadFeatureTransform } from '../../src/stages/features/transform-schema.ts';
import { table } from './table-fixture.ts';

const fitted = fitTransform(
  table({ age: [20, 30, null, 50], plan: ['a', 'b', 'a', null], y: ['no', 'yes', 'no', 'yes'] }),
  { target: 'y', task: 'classification' },
);
/** A fresh JSON copy with one change, as a corrupted stored artefact would be. */
const corrupt = (change: (t: Record<string, unknown> & { inputs: Record<string, unknown>[] }) => void) => {
  const copy = JSON.parse(JSON.stringify(fitted));
  change(copy);
  return copy;
};

function loadError(json: unknown): string {
  try {
    loadFeatureTransform(json);
  } catch (error) {
    if (isStewardError(error) && error.code === 'BAD_REQUEST') return error.message;
    throw error;
  }
  throw new Error('expected the transform to be rejected');
}

describe('loadFeatureTransform', () => {
  it('accepts what fitTransform produces', () => {
    expect(FeatureTransform.parse(fitted)).toEqual(fitted);
  });

  it('names the bad field of a corrupted transform', () => {
    expect(loadError('nope')).toMatch(/^stored feature transform is not valid:\n {2}\(root\): /);
    expect(loadError(corrupt((t) => (t.version = 2)))).toContain('  version: ');
    expect(
      loadError(
        corrupt((t) => {
          delete t.inputs[0]?.scale;
        }),
      ),
    ).toContain('  inputs.0.scale: ');
    expect(loadError(corrupt((t) => Object.assign(t.inputs[0] ?? {}, { scale: 0 })))).toContain(
      'inputs.0.scale',
    );
    // NaN and Infinity become null in JSON
    expect(loadError(corrupt((t) => Object.assign(t.inputs[0] ?? {}, { impute: null })))).toContain(
      'inputs.0.impute',
    );
    expect(
      loadError(corrupt((t) => Object.assign(t.inputs[1] ?? {}, { categories: ['a', '__other__'] }))),
    ).toContain('inputs.1.categories: __other__ and __missing__ are reserved');
    expect(loadError(corrupt((t) => (t.features = ['age'])))).toContain(
      '  features: does not match the inputs',
    );
    expect(loadError(corrupt((t) => (t.extra = true)))).toContain('(root): Unrecognized key: "extra"');
    expect(loadError(corrupt((t) => (t.dropped = [{ name: 'age', reason: 'pii', note: '' }])))).toContain(
      'dropped.0.name: "age" is dropped but also used',
    );
    expect(loadError(corrupt((t) => (t.target = { name: 'y', task: 'classification' })))).toContain(
      'target.classes',
    );
  });
});
