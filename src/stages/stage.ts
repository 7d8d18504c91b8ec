/**
 * The contract every stage implements. A stage is a function from a typed request to a
 * JSON result; it knows nothing about chat, jobs or the run machine. Stages must be
 * idempotent for a given (run, stage, attempt): a retried attempt may run again.
 */
import type { DatasetProfile } from './data/profile.ts';
import type { Table } from './data/table.ts';

export const STAGES = ['ingest', 'checks', 'features', 'train', 'evaluate', 'deploy'] as const;
export type StageName = (typeof STAGES)[number];

export type StageRequest = {
  run: {
    id: string;
    number: number;
    pipeline: string;
    kind: string;
    requestedBy: string;
    params: Record<string, string>;
    /** The exact spec the run was started with. */
    spec: unknown;
    /** Why the run was started (a drift alert's retrain), when not by a request alone. */
    cause?: { source?: string } | null;
  };
  stage: StageName;
  attempt: number;
  /** Outputs of the stages that finished before this one, by stage. */
  inputs: Partial<Record<StageName, unknown>>;
  /** Stored data the stage needs, loaded for it by the worker (stages do no database I/O). */
  artifacts?: StageArtifacts;
};

/** What the worker loads from storage for a stage, and what a stage hands back to be stored. */
export type StageArtifacts = {
  /** The run's dataset snapshot (PII already removed). */
  dataset?: Table;
  /** The pipeline's production model, for champion/challenger; null when there is none. */
  champion?: { version: number; model: unknown; transform: unknown } | null;
  /**
   * The pipeline's labelled predictions, newest first, features plus the target column:
   * what a retrain with `monitoring.retrain_source: feedback` trains on (ingest).
   */
  feedback?: Table;
  /** A new dataset snapshot to store by its hash (ingest). */
  newDataset?: { hash: string; source: unknown; table: Table; profile: DatasetProfile };
};

export type StageContext = {
  /** Reports progress (shown in chat, coalesced). `fraction` is 0..1 when known. */
  progress(message: string, fraction?: number): void;
  /** Aborted when the run is cancelled or the worker shuts down. */
  signal: AbortSignal;
};

/**
 * A failure that would happen again on retry (bad input data, a missed quality gate): the
 * run ends `failed` with this message as its report instead of retrying the stage.
 */
export class StageFailure extends Error {
  override readonly name = 'StageFailure';
  readonly fatal = true;
}

/**
 * A schema's refusal (zod), recognised by its shape so that any copy of zod, in any thread,
 * counts: the same input is refused the same way on every attempt.
 */
export function validationIssues(
  error: unknown,
): readonly { path: readonly PropertyKey[]; message: string }[] | undefined {
  const e = error as { name?: unknown; issues?: unknown } | null;
  return typeof e === 'object' && e !== null && e.name === 'ZodError' && Array.isArray(e.issues)
    ? (e.issues as { path: PropertyKey[]; message: string }[])
    : undefined;
}

/**
 * The message of a stage's error as people read it. A zod error's own message is its issues
 * as pretty-printed JSON, whose first line is `[`; here each issue is `path: message`.
 */
export function readableMessage(error: unknown): string {
  const issues = validationIssues(error);
  if (issues) {
    return issues
      .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(input)'}: ${i.message}`)
      .join('; ');
  }
  return (error as Error | null)?.message || String(error);
}

/** The error's stack, with a zod error's JSON message (which heads its stack) replaced by the readable one. */
export function readableStack(error: unknown): string | undefined {
  const stack = (error as Error | null)?.stack;
  if (!stack || !validationIssues(error)) return stack;
  const frames = stack.search(/\n\s+at /);
  return `ZodError: ${readableMessage(error)}${frames >= 0 ? stack.slice(frames) : ''}`;
}

/** Whether retrying cannot help: a StageFailure (or anything marked `fatal`), or a schema's refusal. */
export const isFatal = (error: unknown): boolean =>
  (typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true) ||
  validationIssues(error) !== undefined;

export type StageResult = {
  /** Kept in `stage_attempts.output` and passed to later stages. */
  output?: unknown;
  /** A short summary for people; stored in the run's snapshot. Keep it small. */
  summary?: unknown;
  artifacts?: StageArtifacts;
};

export type StageFn = (request: StageRequest, context: StageContext) => Promise<StageResult>;

/** A module of stages, by name. Stages a build does not provide fail the run with a clear message. */
export type StageSet = Partial<Record<StageName, StageFn>>;
