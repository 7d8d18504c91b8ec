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

export const isFatal = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && (error as { fatal?: unknown }).fatal === true;

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
