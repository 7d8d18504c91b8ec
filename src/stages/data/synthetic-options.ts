import { z } from 'zod';
import { StewardError } from '../../errors.ts';

/**
 * Options every synthetic generator takes. `drift` runs from 0 (the reference
 * distribution) to 1 (the fully shifted one); numeric distributions and category
 * frequencies move in proportion, so a drift demo can dial how far live data has moved.
 */
export const SyntheticOptions = z
  .object({
    rows: z.number().int().positive().max(5_000_000).default(2000),
    seed: z.number().int().default(42),
    drift: z.number().min(0).max(1).default(0),
  })
  .strict();
export type SyntheticOptions = z.infer<typeof SyntheticOptions>;
export type SyntheticOptionsInput = z.input<typeof SyntheticOptions>;

/** Validates generator options; a bad one is a BAD_REQUEST naming the field. */
export function parseSyntheticOptions(input: SyntheticOptionsInput): SyntheticOptions {
  const parsed = SyntheticOptions.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
  );
  throw new StewardError('BAD_REQUEST', `invalid synthetic data options: ${problems.join('; ')}`);
}
