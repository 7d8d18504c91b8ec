/**
 * A run's root message: the one message per run that is edited in place as the run
 * moves, with a checklist of its steps and, once it ends, how it ended. Stage details go
 * to thread replies (stage-report.ts) so this message stays short enough to read at a
 * glance and to update about once a second.
 */
import type { KnownBlock } from '@slack/types';
import { stateLabel } from '../../workflows/explain.ts';
import { STAGE_OF_STATE, STAGES, type StageName } from '../../workflows/pipeline-run.machine.ts';
import { isFinal, type RunView } from '../../workflows/run-engine.ts';
import type { TimelineEntry } from '../../workflows/run-service.ts';
import { actions, context, header, type Message, section } from './blocks.ts';
import { deployOutcome } from './deployment.ts';
import {
  atTime,
  codeBlock,
  escapeText,
  firstLine,
  formatParams,
  formatTime,
  mention,
  people,
  progressBar,
} from './format.ts';
import { LIMITS, truncate } from './limits.ts';
import { detailsButton } from './links.ts';
import { pipelineName, runPurpose, stageTitle, stateEmoji } from './run-state.ts';
import { stageHeadline } from './stage-report.ts';
import { readDeploy, readEvaluate } from './summaries.ts';

/** Stages a deploy or rollback run does not run: it ships a model that already exists. */
const TRAINING_STAGES: readonly StageName[] = STAGES.filter((s) => s !== 'deploy');

/** How much of a failure report the root message shows; the full report is in the thread and in `status`. */
const REPORT_CHARS = 1500;

export type RunMessageOptions = {
  /**
   * The run's timeline, when the caller has it (`RunService.show`): it is the only
   * record of who cancelled a run and why. Without it a cancelled run says only when.
   */
  timeline?: readonly TimelineEntry[];
  /** The slash command to suggest in hints. @default '/mlops' */
  command?: string;
  /** The run page's URL on this surface: a [Details] button links there. */
  details?: string;
};

/** Who cancelled the run, and why, from the last accepted cancel in its timeline. */
export function cancellation(
  timeline: readonly TimelineEntry[] | undefined,
): { by: string; at: string; reason: string | null } | undefined {
  const entry = timeline?.findLast((e) => e.type === 'run.cancel' && e.to === 'cancelled');
  return entry ? { by: entry.actor, at: entry.at, reason: entry.reason } : undefined;
}

/** The checklist line for one stage. */
function stageLine(run: RunView, stage: StageName): string {
  const title = stageTitle(stage);
  if (run.kind !== 'train' && TRAINING_STAGES.includes(stage))
    return `⏭ ~${title}~ skipped (${runPurpose(run)})`;
  const attempts = run.attempts[stage] ?? 0;
  const retry = attempts > 1 ? ` (attempt ${attempts})` : '';
  if (run.state === 'failed' && run.error?.stage === stage) {
    return `❌ *${title}*${retry} — ${escapeText(firstLine(run.error.message, 300))}`;
  }
  if (stage in run.summaries) {
    const brief = stageHeadline(stage, run.summaries[stage]);
    return `✅ *${title}*${brief ? ` — ${brief}` : ''}`;
  }
  const current = !isFinal(run.state) && STAGE_OF_STATE[run.state] === stage;
  if (current) {
    const progress = run.progress?.stage === stage ? run.progress : null;
    // Until a worker picks the job up (`stage.started`), there is no progress to show.
    if (!progress) return `⏳ *${title}*${retry} — waiting for a worker`;
    const message = progress.message ? ` — ${escapeText(truncate(progress.message, 200))}` : '';
    const bar = progressBar(progress.fraction);
    return `⏳ *${title}*${retry}${message}${bar ? `  \`${bar}\`` : ''}`;
  }
  if (isFinal(run.state) && attempts > 0) return `⏹ ${title} — stopped`;
  return `▫️ ${title}`;
}

/** The approval step, which is not a stage but is where runs wait longest. */
function approvalLine(run: RunView): string {
  const approved = run.approvals.map((a) => a.by);
  if (run.rejection) return `🚫 *Approval* — rejected by ${mention(run.rejection.by)}`;
  if (run.state === 'awaitingApproval') {
    const so = approved.length ? `; approved so far by ${people(approved)}` : '';
    return `⏳ *Approval* — waiting for a decision until ${formatTime(run.deadline)}${so}`;
  }
  if (run.state === 'expired') return `⌛ *Approval* — expired${atTime(run.deadline ?? run.finishedAt)}`;
  if (approved.length) return `✅ *Approval* — approved by ${people(approved)}`;
  if ((run.attempts.deploy ?? 0) > 0) return '⏭ Approval — not required for this pipeline';
  return '▫️ Approval';
}

/**
 * Where a deployed run left production, from its deploy summary; a run whose summary names
 * no production version (an older Steward's) is said to have put in production the version
 * it evaluated or named.
 */
function deployedLine(run: RunView, options: RunMessageOptions): string {
  const since = run.finishedAt ? ` since ${formatTime(run.finishedAt)}` : '';
  const summary = readDeploy(run.summaries.deploy);
  if (summary?.production !== undefined) {
    return deployOutcome(summary, {
      pipeline: run.pipeline,
      since,
      ...(options.command ? { command: options.command } : {}),
    });
  }
  const version = readEvaluate(run.summaries.evaluate)?.version;
  const as =
    version !== undefined
      ? `v${version}`
      : run.params.version
        ? escapeText(truncate(run.params.version, 20))
        : 'the new version';
  return `🚀 *${pipelineName(run.pipeline)}* ${as} is in production${since}.`;
}

/** The lines that say how the run ended (or what it waits for). */
function outcome(run: RunView, options: RunMessageOptions): string[] {
  const name = pipelineName(run.pipeline);
  const command = options.command ?? '/mlops';
  switch (run.state) {
    case 'deployed':
      return [deployedLine(run, options)];
    case 'failed': {
      const error = run.error;
      const where = error?.stage ? ` in *${stageTitle(error.stage)}*` : '';
      const attempt = error?.attempt ? ` (attempt ${error.attempt})` : '';
      return [
        `❌ *Failed*${where}${attempt}${atTime(run.finishedAt)}:`,
        codeBlock(escapeText(error?.message ?? 'no report was recorded'), REPORT_CHARS),
        `Fix the cause, then start again with \`${command} run ${name}\`.`,
      ];
    }
    case 'rejected': {
      const r = run.rejection;
      const reason = r?.reason ? `: _${escapeText(truncate(r.reason, 1000))}_` : ' (no reason given)';
      return [
        `🚫 *Rejected* by ${r ? mention(r.by) : 'an approver'}${atTime(r?.at ?? run.finishedAt)}${reason}`,
      ];
    }
    case 'expired': {
      const partial = run.approvals.length
        ? ` Approved by ${people(run.approvals.map((a) => a.by))}, but more approvals were needed.`
        : '';
      return [
        `⌛ *Expired*: nobody decided before ${formatTime(run.deadline ?? run.finishedAt)}, so nothing was deployed.${partial}`,
      ];
    }
    case 'cancelled': {
      const c = cancellation(options.timeline);
      if (!c) return [`⏹️ *Cancelled*${atTime(run.finishedAt)}.`];
      const reason = c.reason ? `: _${escapeText(truncate(c.reason, 1000))}_` : '';
      return [`⏹️ *Cancelled* by ${mention(c.by)}${atTime(c.at)}${reason}`];
    }
    case 'awaitingApproval':
      return [
        '🙋 Waiting for an approver: the card with the evidence and the buttons is posted below, in this channel.',
      ];
    default:
      return [];
  }
}

/** The header text: `⚙️ #12 churn — training`. */
export function runTitle(run: RunView): string {
  return `${stateEmoji(run.state)} #${run.number} ${truncate(run.pipeline, 80)} — ${stateLabel(run.state)}`;
}

/** The notification text: the title plus the live detail a lock screen should show. */
function fallback(run: RunView): string {
  const progress = run.progress && !isFinal(run.state) ? run.progress : null;
  const bar = progressBar(progress?.fraction);
  const detail = progress
    ? `: ${escapeText(firstLine(progress.message, 120))}${bar ? ` (${bar.split(' ')[1]})` : ''}`
    : '';
  const error =
    run.state === 'failed' && run.error ? `: ${escapeText(firstLine(run.error.message, 200))}` : '';
  return `${runTitle(run)}${detail}${error}`;
}

/** The root message of `run`, to post when it starts and to update on every change. */
export function runMessage(run: RunView, options: RunMessageOptions = {}): Message {
  const params = Object.keys(run.params).length ? `\`${escapeText(formatParams(run.params, 300))}\`` : '';
  const steps = [
    ...TRAINING_STAGES.map((s) => stageLine(run, s)),
    approvalLine(run),
    stageLine(run, 'deploy'),
  ];
  const blocks: KnownBlock[] = [
    header(runTitle(run)),
    context(
      `Requested by ${mention(run.requestedBy)}${atTime(run.createdAt)}`,
      run.kind === 'train' ? '' : `*${runPurpose(run)}*`,
      params,
    ),
    section(steps.join('\n')),
  ];
  const end = outcome(run, options);
  if (end.length) blocks.push(section(end.join('\n')));
  blocks.push(context(`Details: \`${options.command ?? '/mlops'} status ${run.number}\``));
  if (options.details) blocks.push(actions([detailsButton(options.details)], `run.details.${run.number}`));
  return { text: truncate(fallback(run), LIMITS.sectionText), blocks };
}
