import { sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.ts';

/**
 * Where Steward reads the time. Deadlines, event times and leases are all compared on one
 * clock: by default the database's, so that several machines whose clocks disagree still
 * agree on when an approval expired or a worker went silent. Tests pass a clock of their own.
 */
export type Clock = { now(db: Queryable): Promise<Date> };

/** The database's `now()` (the transaction's start time inside a transaction). */
export const databaseClock: Clock = {
  async now(db) {
    const result = (await db.execute(
      sql`select (extract(epoch from now()) * 1000)::float8 as ms`,
    )) as unknown as {
      rows: { ms: number | string }[];
    };
    return new Date(Number(result.rows[0]?.ms));
  },
};

/** A clock that tests move by hand. */
export function manualClock(start = new Date()): Clock & { set(at: Date): void; advance(ms: number): void } {
  let at = start.getTime();
  return {
    now: async () => new Date(at),
    set: (d) => {
      at = d.getTime();
    },
    advance: (ms) => {
      at += ms;
    },
  };
}

/** The process's own clock, for tests that want real time without the database round trip. */
export const processClock: Clock = { now: async () => new Date() };
