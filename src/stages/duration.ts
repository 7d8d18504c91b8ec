import { z } from 'zod';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration such as `45s`, `30m`, `24h` or `7d`, parsed to milliseconds. */
export const Duration = z.union(
  [
    z
      .string()
      .regex(/^\d+(\.\d+)?\s*[smhd]$/, 'expected a duration such as 30m, 24h or 7d')
      .transform((text) => {
        const unit = text.at(-1) as keyof typeof UNIT_MS;
        return Math.round(Number.parseFloat(text) * UNIT_MS[unit]);
      }),
    // Milliseconds: what a parsed spec holds, so a stored spec parses again to itself.
    z.number().int().positive(),
  ],
  { error: 'expected a duration such as 30m, 24h or 7d' },
);
