import { z } from 'zod';

/**
 * zod numbers whose messages name the rule and the value, for fields people set by hand
 * (spec fields, run params): `at most 2000 (got 100000000)`, not `Too big: expected
 * number to be <=2000`. The field's name is added by whoever reports the issue.
 */

const shown = (value: unknown) =>
  Array.isArray(value) ? String(value.length) : typeof value === 'string' ? `\`${value}\`` : String(value);

/** `at most 2000 (got 100000000)`; for arrays the count is shown (`at most 8 layers (got 9)`). */
export const atMost = (max: number, unit = '') => ({
  error: (issue: { input?: unknown }) =>
    `at most ${max}${unit ? ` ${unit}` : ''} (got ${shown(issue.input)})`,
});

/** `at least 1 (got 0)`. */
export const atLeast = (min: number, unit = '') => ({
  error: (issue: { input?: unknown }) =>
    `at least ${min}${unit ? ` ${unit}` : ''} (got ${shown(issue.input)})`,
});

const wholeNumber = {
  error: (issue: { input?: unknown }) => `expected a whole number, got ${shown(issue.input)}`,
};

/** A whole number in [min, max]; `unit` names what the maximum counts. */
export function boundedInt(min: number, max: number, unit = ''): z.ZodNumber {
  return z.number(wholeNumber).int(wholeNumber).min(min, atLeast(min)).max(max, atMost(max, unit));
}

/** Any whole number JavaScript holds exactly (seeds). */
export function anyInt(): z.ZodNumber {
  return z.number(wholeNumber).int(wholeNumber);
}
