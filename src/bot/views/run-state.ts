/**
 * How a run's state and stages are named in chat, shared by the run message, the
 * approval card, lists and App Home so one run reads the same everywhere.
 */

import { stateLabel } from '../../workflows/explain.ts';
import type { RunState, StageName } from '../../workflows/pipeline-run.machine.ts';
import type { RunView } from '../../workflows/run-engine.ts';
import { escapeText, formatTime, mention } from './format.ts';
import { truncate } from './limits.ts';

const STATE_EMOJI: Record<RunState, string> = {
  queued: '🕒',
  ingesting: '⚙️',
  checking: '⚙️',
  featurizing: '⚙️',
  training: '⚙️',
  evaluating: '⚙️',
  awaitingApproval: '🙋',
  deploying: '🚀',
  deployed: '✅',
  failed: '❌',
  rejected: '🚫',
  expired: '⌛',
  cancelled: '⏹️',
};

/** The emoji in front of a run's state; a state this build does not know gets a neutral dot. */
export const stateEmoji = (state: string): string => STATE_EMOJI[state as RunState] ?? '•';

/** Stage names as headings: `train` is shown as "Training". */
export const STAGE_TITLE: Record<StageName, string> = {
  ingest: 'Ingest',
  checks: 'Data checks',
  features: 'Features',
  train: 'Training',
  evaluate: 'Evaluation',
  deploy: 'Deploy',
};

export const stageTitle = (stage: string): string => STAGE_TITLE[stage as StageName] ?? stage;

/**
 * A pipeline name for display. Spec names are at most 63 characters, but views may be
 * handed anything (a deleted pipeline, a future naming rule), so it is cut and escaped.
 */
export const pipelineName = (name: string, max = 80): string => escapeText(truncate(name, max));

/** What a run does, for people: "train", "deploy v3", "rollback". */
export function runPurpose(run: Pick<RunView, 'kind' | 'params'>): string {
  const version = run.params.version;
  if (run.kind === 'deploy') return version ? `deploy ${escapeText(truncate(version, 20))}` : 'deploy';
  if (run.kind === 'rollback')
    return version ? `rollback to ${escapeText(truncate(version, 20))}` : 'rollback';
  return 'train';
}

/** One line per run in lists: `⚙️ *#12* churn — training · by @ann · 2026-01-02 14:03 UTC`. */
export function runLine(run: RunView): string {
  const kind = run.kind === 'train' ? '' : ` (${runPurpose(run)})`;
  return (
    `${stateEmoji(run.state)} *#${run.number}* ${pipelineName(run.pipeline, 60)}${kind} — ${stateLabel(run.state)}` +
    ` · ${mention(run.requestedBy)} · ${formatTime(run.createdAt)}`
  );
}
