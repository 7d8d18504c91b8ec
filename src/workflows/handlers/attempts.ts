import { and, eq } from 'drizzle-orm';
import { stageAttempts } from '../../db/schema.ts';
import type { StageName } from '../../stages/stage.ts';
import { type ApplyRequest, SYSTEM_ACTOR } from '../run-engine.ts';

/** One stage attempt of one run: what a stage job names and a lease row is keyed by. */
export type AttemptRef = { runId: string; stage: StageName; attempt: number };

export const attemptKey = (c: AttemptRef) => `${c.runId}/${c.stage}/${c.attempt}`;

/** The lease row of an attempt. */
export const leaseOf = (c: AttemptRef) =>
  and(
    eq(stageAttempts.runId, c.runId),
    eq(stageAttempts.stage, c.stage),
    eq(stageAttempts.attempt, c.attempt),
  );

/** An event Steward itself reports about a run (a stage's outcome, a deadline). */
export const systemEvent = (
  runId: string,
  event: ApplyRequest['event'],
  idempotencyKey: string,
): ApplyRequest => ({ run: { id: runId }, event, actor: SYSTEM_ACTOR, idempotencyKey });

/** A handler the job loop runs, each in its own loop so that one slow kind never holds up another. */
export type JobHandler = {
  readonly name: string;
  /** Pause between rounds that found nothing to do. */
  readonly pollMs: number;
  /** Does what is due now; returns the work it launched (awaited by `tick`, not by the loop). */
  round(): Promise<Promise<void>[]>;
  /** Stops launching; lets launched work finish for up to `graceMs`, then gives it up. */
  stop?(graceMs: number): Promise<void>;
};
