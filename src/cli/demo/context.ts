import type { MonitorJob } from '../../workflows/jobs.ts';
import type { DemoClient } from './api.ts';

/** The people of the story, each with a credential of their own, and the role they hold. */
export type Cast = {
  /** Starts the first run and presses [Retrain now]: an operator. */
  requester: string;
  /** Approves the first run: an approver who is not the requester (four eyes). */
  approver: string;
  /** Presses [Retrain now] first and is refused: a viewer. */
  viewer: string;
};

export type DemoContext = {
  client: DemoClient;
  cast: Cast;
  pipeline: string;
  /** The demo's own copy of the spec, in its temporary directory. */
  specFile: string;
  /** The monitoring tick, enqueued as the scheduler enqueues it. */
  enqueueMonitor(job: MonitorJob): Promise<string | null>;
  /** How long one wait may take before the step fails. */
  timeoutMs: number;
  /** Aborted when the person stops the demo (Ctrl-C). */
  signal: AbortSignal;
  /** What the story has found so far, for the later steps and the summary. */
  facts: {
    firstRun?: number;
    version?: number;
    alert?: number;
    drifted?: string[];
    retrainRun?: number;
  };
};

export type DemoStep = {
  /** A short name, for the summary. */
  name: string;
  /** What the step does, as it starts. */
  title: string;
  /** Does it; answers what happened, in one line. */
  run(ctx: DemoContext, update: (detail: string) => void): Promise<string>;
};

export type ConsoleMessage = {
  id: string;
  channel: string;
  text: string;
  blocks: unknown[] | null;
  ephemeral: boolean;
};
export type Button = { action_id: string; value?: string };
