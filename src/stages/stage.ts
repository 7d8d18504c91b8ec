/**
 * The contract every stage implements. A stage is a function from a typed request to a
 * JSON result; it knows nothing about chat, jobs or the run machine. Stages must be
 * idempotent for a given (run, stage, attempt): a retried attempt may run again.
 */
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
};

export type StageContext = {
  /** Reports progress (shown in chat, coalesced). `fraction` is 0..1 when known. */
  progress(message: string, fraction?: number): void;
  /** Aborted when the run is cancelled or the worker shuts down. */
  signal: AbortSignal;
};

export type StageResult = {
  /** Kept in `stage_attempts.output` and passed to later stages. */
  output?: unknown;
  /** A short summary for people; stored in the run's snapshot. Keep it small. */
  summary?: unknown;
};

export type StageFn = (request: StageRequest, context: StageContext) => Promise<StageResult>;

/** A module of stages, by name. Stages a build does not provide fail the run with a clear message. */
export type StageSet = Partial<Record<StageName, StageFn>>;
