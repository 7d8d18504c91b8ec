import { CHURN, generateChurn } from './synthetic-churn.ts';
import { generateHousing, HOUSING } from './synthetic-housing.ts';
import type { SyntheticOptionsInput } from './synthetic-options.ts';
import type { Table } from './table.ts';

export { CHURN, churnLogit, generateChurn } from './synthetic-churn.ts';
export { generateHousing, HOUSING, HOUSING_NOISE, housingPrice } from './synthetic-housing.ts';
export { SyntheticOptions, type SyntheticOptionsInput } from './synthetic-options.ts';

/**
 * Seeded synthetic datasets, so Steward can be tried (and tested) without any data of
 * one's own: the `synthetic` source of a pipeline spec. The same options always give the
 * identical table; `drift` shifts it for monitoring demos.
 */
export const GENERATORS = { churn: CHURN, housing: HOUSING } as const;
export type GeneratorName = keyof typeof GENERATORS;

export function generateSynthetic(generator: GeneratorName, options: SyntheticOptionsInput = {}): Table {
  return generator === 'churn' ? generateChurn(options) : generateHousing(options);
}
