import { z } from 'zod';
import { StewardError } from '../../errors.ts';

const Share = z.number().min(0).max(1, 'use a share between 0 and 1, e.g. 0.05 for 5%');

const Range = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((range) => range.min !== undefined || range.max !== undefined, 'give min, max or both')
  .refine(
    (range) => range.min === undefined || range.max === undefined || range.min <= range.max,
    'min must not be greater than max',
  );

/**
 * The `checks` section of a pipeline spec: data-quality rules the checks stage enforces on
 * top of its automatic ones. Every rule is optional.
 *
 * - `min_rows`: fewest rows the data may have.
 * - `max_missing`: largest share (0..1) of missing values, either one number for every
 *   column or per column; in the per-column form the key `*` covers unnamed columns.
 * - `ranges`: inclusive `{ min, max }` bounds for numeric columns.
 * - `allowed`: the only values a column may hold (missing values are `max_missing`'s job).
 * - `numeric`: columns that must hold numbers; text in one fails with the row it is in.
 */
export const ChecksSpec = z
  .object({
    min_rows: z.number().int().min(0).optional(),
    max_missing: z.union([Share, z.record(z.string(), Share)]).optional(),
    ranges: z.record(z.string(), Range).default({}),
    allowed: z.record(z.string(), z.array(z.union([z.string(), z.number(), z.boolean()])).min(1)).default({}),
    numeric: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type ChecksSpec = z.infer<typeof ChecksSpec>;
export type ChecksSpecInput = z.input<typeof ChecksSpec>;

/**
 * Validates a spec's `checks` section. Problems are a PIPELINE_INVALID error listing each
 * field by its path in the spec, so all of them can be fixed in one go.
 */
export function parseChecksSpec(input: unknown): ChecksSpec {
  const parsed = ChecksSpec.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `  ${['checks', ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new StewardError('PIPELINE_INVALID', `the checks section is invalid:\n${problems.join('\n')}`);
}
