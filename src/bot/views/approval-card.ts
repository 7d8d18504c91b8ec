/**
 * The approval card: the evidence an approver needs (this run's metrics next to
 * production's, the data checks, the dataset) and the Approve and Reject buttons. After
 * the decision the same card is redrawn without buttons, saying who decided and when, so
 * nobody presses a button on a question that has been answered.
 *
 * The buttons carry the run's number and its version at drawing time. Roles are checked
 * when the click is applied, not here, and a click on a card drawn for an older version
 * can be told apart by the handler.
 */
import type { KnownBlock } from '@slack/types';
import { z } from 'zod';
import type { RunView } from '../../workflows/run-engine.ts';
import type { TimelineEntry } from '../../workflows/run-service.ts';
import { causeText } from '../../workflows/run-view.ts';
import { actions, button, context, fields, header, type Message, section, sections } from './blocks.ts';
import {
  atTime,
  codeBlock,
  escapeText,
  firstLine,
  formatCount,
  formatDelta,
  formatMetric,
  formatTime,
  mention,
  orderMetrics,
  people,
  shortHash,
  textTable,
  verdict,
} from './format.ts';
import { LIMITS, truncate } from './limits.ts';
import { detailsButton } from './links.ts';
import { cancellation } from './run-message.ts';
import { pipelineName, runPurpose } from './run-state.ts';
import { thresholdLine } from './stage-report.ts';
import {
  checkCounts,
  compareMetrics,
  type EvaluateSummary,
  readChecks,
  readEvaluate,
  readIngest,
} from './summaries.ts';

export const APPROVE_ACTION = 'run.approve';
export const REJECT_ACTION = 'run.reject';

/**
 * What the Approve and Reject buttons send back: the run number and the run's version
 * when the card was drawn. Small on purpose: everything else is read fresh on click.
 */
export const RunButtonValue = z.object({
  run: z.number().int().positive(),
  v: z.number().int().nonnegative(),
});
export type RunButtonValue = z.infer<typeof RunButtonValue>;

export const runButtonValue = (run: Pick<RunView, 'number' | 'version'>): string =>
  JSON.stringify({ run: run.number, v: run.version } satisfies RunButtonValue);

/** Parses a button's `value`; null when it is not one of ours (an old card, a forged payload). */
export function parseRunButtonValue(value: string | undefined): RunButtonValue | null {
  if (!value) return null;
  try {
    const parsed = RunButtonValue.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Thresholds listed on the card; the thread's evaluation report has them all. */
const MAX_THRESHOLDS = 10;

/** The side-by-side table, or why there is nothing to compare with. */
function metricsBlock(evaluate: EvaluateSummary): string {
  const champion = evaluate.champion;
  const names = orderMetrics(Object.keys(evaluate.metrics));
  if (!champion?.metrics) {
    const why = !champion
      ? 'No model in production yet: this would be the first.'
      : `Production v${champion.version ?? '?'} could not be compared${champion.note ? `: ${escapeText(truncate(champion.note, 500))}` : '.'}`;
    const rows = names.map((n) => [n, formatMetric(evaluate.metrics[n])]);
    return rows.length
      ? `${why}\n${textTable(['metric', 'this run'], rows, LIMITS.sectionText - why.length - 1)}`
      : why;
  }
  const rows = compareMetrics(evaluate).map((m) => [
    m.name,
    formatMetric(m.value),
    formatMetric(m.production),
    formatDelta(m.delta),
    verdict(m.name, m.delta),
  ]);
  const title = `*This run vs production v${champion.version ?? '?'}*`;
  return `${title}\n${textTable(['metric', 'this run', 'production', 'Δ', ''], rows, LIMITS.sectionText - title.length - 1)}`;
}

/** The evidence every version of the card shows. */
function evidence(run: RunView): KnownBlock[] {
  const name = pipelineName(run.pipeline);
  const evaluate = readEvaluate(run.summaries.evaluate);
  const blocks: KnownBlock[] = [];
  if (run.kind === 'train') {
    const version = evaluate?.version !== undefined ? ` (registered as v${evaluate.version})` : '';
    blocks.push(
      section(
        `${mention(run.requestedBy)} asks to deploy the *${name}* model trained in run #${run.number}${version}.`,
      ),
    );
  } else {
    blocks.push(
      section(
        `${mention(run.requestedBy)} asks to *${runPurpose(run)}* *${name}* (run #${run.number}). ` +
          `No new model was trained, so there are no new metrics: \`/mlops models ${name}\` shows that version’s record.`,
      ),
    );
  }
  if (evaluate) {
    blocks.push(section(metricsBlock(evaluate)));
    const lines: string[] = [];
    const c = evaluate.comparison;
    if (c) {
      lines.push(
        `*Gate:* ${escapeText(c.metric)} ${formatMetric(c.challenger)} vs ${formatMetric(c.champion)} (${formatDelta(c.delta)} ${verdict(c.metric, c.delta)})`,
      );
    }
    const t = evaluate.thresholds;
    if (t.length) {
      const met = t.filter((x) => x.passed).length;
      lines.push(`*Thresholds:* ${met} of ${t.length} met`, ...t.slice(0, MAX_THRESHOLDS).map(thresholdLine));
      if (t.length > MAX_THRESHOLDS)
        lines.push(`… and ${t.length - MAX_THRESHOLDS} more in the evaluation report`);
    }
    blocks.push(...sections(lines));
  } else if (run.kind === 'train') {
    blocks.push(section('_No evaluation summary was recorded for this run._'));
  }
  const checks = readChecks(run.summaries.checks);
  const ingest = readIngest(run.summaries.ingest);
  const facts: [string, string][] = [];
  if (checks) {
    const { passed, failed } = checkCounts(checks);
    facts.push([
      'Data checks',
      `${failed ? '⚠️' : '✓'} ${formatCount(passed)} passed, ${formatCount(failed)} failed`,
    ]);
  }
  if (ingest) {
    const size =
      ingest.rows !== undefined
        ? `${formatCount(ingest.rows)} rows${ingest.columns !== undefined ? ` × ${formatCount(ingest.columns)} columns` : ''}`
        : 'size unknown';
    facts.push([
      'Dataset',
      `${size}${ingest.dataset ? ` · \`${escapeText(shortHash(ingest.dataset))}\`` : ''}`,
    ]);
  }
  facts.push(['Requested by', `${mention(run.requestedBy)}${atTime(run.createdAt)}`]);
  if (run.deadline) facts.push(['Decide by', formatTime(run.deadline)]);
  blocks.push(...fields(facts));
  return blocks;
}

const cardHeader = (run: RunView, prefix: string) =>
  header(`${prefix} #${run.number} ${truncate(run.pipeline, 80)}`);

/** Why the run exists, when a drift alert started it: so the approver weighs it as a challenger. */
function causeBlocks(run: RunView): KnownBlock[] {
  if (!run.cause) return [];
  const text = causeText(run.cause);
  return [
    section(
      `🔶 ${escapeText(text.charAt(0).toUpperCase() + text.slice(1))}, posted in ${escapeText(run.cause.channel)}. It competes with production as the challenger.`,
    ),
  ];
}

/** The card asking approvers to decide `run` (in `awaitingApproval`), with the buttons. */
export function approvalCard(run: RunView, options: Pick<DecidedCardOptions, 'details'> = {}): Message {
  const value = runButtonValue(run);
  const so = run.approvals.length
    ? `Approved so far by ${people(run.approvals.map((a) => a.by))}; more approvals are needed.`
    : 'Only approvers can decide, and not the person who requested the run.';
  const blocks: KnownBlock[] = [
    cardHeader(run, '🙋 Approval needed:'),
    ...causeBlocks(run),
    ...evidence(run),
    context(so),
    actions(
      [
        button({ text: 'Approve', actionId: APPROVE_ACTION, value, style: 'primary' }),
        button({ text: 'Reject', actionId: REJECT_ACTION, value, style: 'danger' }),
        ...(options.details ? [detailsButton(options.details)] : []),
      ],
      `run.decide.${run.number}`,
    ),
  ];
  return {
    text: `🙋 Approval needed: #${run.number} ${truncate(run.pipeline, 80)} (requested by ${mention(run.requestedBy)}${run.deadline ? `, decide by ${formatTime(run.deadline)}` : ''})`,
    blocks,
  };
}

export type DecidedCardOptions = {
  /** The run's timeline: names who cancelled (see `runMessage`). */
  timeline?: readonly TimelineEntry[];
  /** The run page's URL on this surface: a [Details] button links there. */
  details?: string;
};

/** The decision line, and the header prefix that goes with it. */
function decision(run: RunView, options: DecidedCardOptions): { prefix: string; line: string } {
  const approvers = run.approvals.map((a) => a.by);
  const approved = approvers.length
    ? `approved by ${people(approvers)}${atTime(run.approvals.at(-1)?.at)}`
    : '';
  switch (run.state) {
    case 'rejected': {
      const r = run.rejection;
      const reason = r?.reason ? `: _${escapeText(truncate(r.reason, 1000))}_` : ' (no reason given)';
      const by = r ? mention(r.by) : 'an approver';
      return {
        prefix: '🚫 Rejected:',
        line: `🚫 Rejected by ${by}${atTime(r?.at ?? run.finishedAt)}${reason}`,
      };
    }
    case 'expired': {
      const partial = approved ? ` It was ${approved}, but more approvals were needed.` : '';
      return {
        prefix: '⌛ Expired:',
        line: `⌛ Nobody decided before ${formatTime(run.deadline ?? run.finishedAt)}: the approval expired and nothing was deployed.${partial}`,
      };
    }
    case 'cancelled': {
      const c = cancellation(options.timeline);
      const by = c ? ` by ${mention(c.by)}` : '';
      const reason = c?.reason ? `: _${escapeText(truncate(c.reason, 1000))}_` : '';
      return {
        prefix: '⏹️ Cancelled:',
        line: `⏹️ Cancelled${by}${atTime(c?.at ?? run.finishedAt)}${reason}. No decision is needed.`,
      };
    }
    case 'failed': {
      const stage = run.error?.stage ? ` in ${run.error.stage}` : '';
      const report = codeBlock(escapeText(run.error?.message ?? 'no report was recorded'), 1200);
      const lead = approved ? `✅ ${capitalize(approved)}, but the run failed` : '❌ The run failed';
      return { prefix: '❌ Failed:', line: `${lead}${stage}:\n${report}` };
    }
    case 'deployed':
      return {
        prefix: '✅ Approved:',
        line: `✅ ${capitalize(approved || 'deployed without approval')}${run.finishedAt ? `; in production since ${formatTime(run.finishedAt)}` : ''}.`,
      };
    case 'deploying':
      return { prefix: '✅ Approved:', line: `✅ ${capitalize(approved || 'approved')}; deploying now.` };
    default:
      return {
        prefix: '🙋 Approval pending:',
        line: approved ? `So far ${approved}.` : 'Waiting for a decision.',
      };
  }
}

const capitalize = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;

/**
 * The card once no decision can be made on it any more: approved (deploying, deployed),
 * rejected, expired, cancelled or failed. Same evidence, no buttons, and who decided when.
 */
export function decidedCard(run: RunView, options: DecidedCardOptions = {}): Message {
  const { prefix, line } = decision(run, options);
  return {
    text: `${prefix} #${run.number} ${truncate(run.pipeline, 80)} — ${firstLine(line.replace(/_/g, ''), 300)}`,
    blocks: [
      cardHeader(run, prefix),
      ...evidence(run),
      section(line),
      ...(options.details ? [actions([detailsButton(options.details)], `run.details.${run.number}`)] : []),
    ],
  };
}

/** The right card for the run's state: with buttons while it awaits a decision, without after. */
export function cardFor(run: RunView, options: DecidedCardOptions = {}): Message {
  return run.state === 'awaitingApproval' ? approvalCard(run, options) : decidedCard(run, options);
}
