/**
 * The App Home tab: what needs the viewer (approvals), what is happening (recent runs),
 * and what is live (production models and whether they drift). It is a summary to act
 * from, not an archive: each section shows a bounded number of rows and says how many
 * more there are.
 */
import type { HomeView, KnownBlock } from '@slack/types';
import type { RunView } from '../../workflows/run-engine.ts';
import type { ModelView } from '../../workflows/run-service.ts';
import { APPROVE_ACTION, runButtonValue } from './approval-card.ts';
import { button, context, divider, header, section, sections } from './blocks.ts';
import { escapeText, formatMetric, formatTime, mention, orderMetrics } from './format.ts';
import { fitBlocks, LIMITS } from './limits.ts';
import { pipelineName, runLine } from './run-state.ts';
import { headlineMetric, NumberRecord, readEvaluate } from './summaries.ts';

export type DriftStatus = 'ok' | 'drifting' | 'unknown';

export type HomeInput = {
  viewer: string;
  /**
   * Runs awaiting a decision the viewer may make. The caller applies roles and four
   * eyes: the view cannot know a pipeline's approvers.
   */
  approvals: readonly RunView[];
  /** Recent runs, newest first. */
  runs: readonly RunView[];
  /** Model versions; only production ones are shown. */
  models: readonly ModelView[];
  /** Drift per pipeline, when monitoring has reported; missing pipelines show 'unknown'. */
  drift?: Readonly<Record<string, DriftStatus>>;
};

/** Approvals shown, each a section with its own button (the largest part of the 100-block budget). */
const MAX_APPROVALS = 20;
const MAX_RUNS = 15;
const MAX_MODELS = 30;

const DRIFT: Record<DriftStatus, string> = {
  ok: '🟢 no drift',
  drifting: '🔴 drifting',
  unknown: '⚪ drift unknown',
};

/** One approval waiting for the viewer, with the evidence's headline and an Approve button. */
function approvalRow(run: RunView): KnownBlock {
  const evaluate = readEvaluate(run.summaries.evaluate);
  const headline = headlineMetric(evaluate);
  const c = evaluate?.comparison;
  const metric = c
    ? ` · ${escapeText(c.metric)} ${formatMetric(c.challenger)} vs ${formatMetric(c.champion)} in production`
    : headline
      ? ` · ${escapeText(headline.name)} ${formatMetric(headline.value)}`
      : '';
  return section(
    `*#${run.number}* ${pipelineName(run.pipeline, 60)} — requested by ${mention(run.requestedBy)}${metric}\n` +
      `Decide by ${formatTime(run.deadline)}. To reject, use the card in the run's thread.`,
    button({ text: 'Approve', actionId: APPROVE_ACTION, value: runButtonValue(run), style: 'primary' }),
  );
}

/** One production model: version, type, headline metric, drift. */
function modelLine(model: ModelView, drift: DriftStatus): string {
  const metrics = NumberRecord.parse(model.metrics);
  const [name] = orderMetrics(Object.keys(metrics));
  const metric = name === undefined ? '' : ` · ${escapeText(name)} ${formatMetric(metrics[name])}`;
  return (
    `*${pipelineName(model.pipeline, 60)}* v${model.version} (${escapeText(model.modelType)})${metric}` +
    ` · ${DRIFT[drift]} · from run #${model.run}`
  );
}

const more = (total: number, shown: number, hint: string): KnownBlock[] =>
  total > shown ? [context(`… and ${total - shown} more. ${hint}`)] : [];

/** The App Home view for `viewer`. */
export function homeView(input: HomeInput): HomeView {
  const blocks: KnownBlock[] = [
    header('Steward'),
    context(`Hello ${mention(input.viewer)}. Type \`/mlops help\` for commands.`),
  ];

  blocks.push(divider(), header(`Waiting for your approval (${input.approvals.length})`));
  if (input.approvals.length === 0) blocks.push(section('Nothing needs your decision right now.'));
  blocks.push(...input.approvals.slice(0, MAX_APPROVALS).map(approvalRow));
  blocks.push(...more(input.approvals.length, MAX_APPROVALS, 'See `/mlops runs` for all of them.'));

  blocks.push(divider(), header('Recent runs'));
  if (input.runs.length === 0)
    blocks.push(section(`No runs yet. Start one with ${escapeText('`/mlops run <pipeline>`')}.`));
  blocks.push(...sections(input.runs.slice(0, MAX_RUNS).map(runLine)));
  blocks.push(...more(input.runs.length, MAX_RUNS, 'See `/mlops runs`.'));

  const production = input.models.filter((m) => m.production);
  blocks.push(divider(), header('In production'));
  if (production.length === 0) blocks.push(section('No model is in production yet.'));
  const lines = production
    .slice(0, MAX_MODELS)
    .map((m) => modelLine(m, input.drift?.[m.pipeline] ?? 'unknown'));
  blocks.push(...sections(lines));
  blocks.push(...more(production.length, MAX_MODELS, 'See `/mlops models`.'));

  return { type: 'home', blocks: fitBlocks(blocks, LIMITS.surfaceBlocks) };
}
