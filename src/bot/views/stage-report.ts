/**
 * The thread reply posted when a stage of a run finishes: what the stage found or made,
 * in a few lines a person can check at a glance. Detail that would not fit (a hundred
 * dropped columns) is cut with a count of what was left out.
 */
import type { KnownBlock } from '@slack/types';
import type { StageName } from '../../workflows/pipeline-run.machine.ts';
import type { RunView } from '../../workflows/run-engine.ts';
import { context, fields, type Message, section, sections } from './blocks.ts';
import { deployBrief } from './deployment.ts';
import {
  codeBlock,
  escapeText,
  firstLine,
  formatCount,
  formatDelta,
  formatMetric,
  formatParams,
  lowerIsBetter,
  orderMetrics,
  plural,
  shortHash,
  textTable,
  verdict,
} from './format.ts';
import { fitBlocks, LIMITS, truncate } from './limits.ts';
import { pipelineName, stageTitle } from './run-state.ts';
import {
  type ChecksSummary,
  checkCounts,
  type EvaluateSummary,
  type FeaturesSummary,
  type IngestSummary,
  readChecks,
  readDeploy,
  readEvaluate,
  readFeatures,
  readIngest,
  readTrain,
  type ThresholdLine,
  type TrainSummary,
} from './summaries.ts';

/** Failed checks listed one per line before "… and N more". */
const MAX_CHECK_LINES = 25;
/** Dropped features named before "and N more". */
const MAX_DROPPED = 30;

/** A list as `a, b, c and 4 more`. */
function listed(items: readonly string[], limit: number): string {
  const shown = items.slice(0, limit).map((i) => escapeText(truncate(i, 80)));
  const rest = items.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

function ingestBrief(s: IngestSummary): string {
  const parts = [
    s.rows !== undefined && s.columns !== undefined
      ? `${formatCount(s.rows)} rows × ${formatCount(s.columns)} columns`
      : s.rows !== undefined
        ? plural(s.rows, 'row')
        : undefined,
    s.dataset ? `dataset \`${escapeText(shortHash(s.dataset))}\`` : undefined,
    s.piiRemoved ? `${plural(s.piiRemoved, 'PII column')} removed` : undefined,
  ];
  return parts.filter(Boolean).join(' · ');
}

const checksBrief = (s: ChecksSummary): string => {
  const { passed, failed } = checkCounts(s);
  return `${formatCount(passed)} passed, ${formatCount(failed)} failed`;
};

function featuresBrief(s: FeaturesSummary): string {
  const made = [
    s.features !== undefined ? plural(s.features, 'feature') : undefined,
    s.inputs !== undefined ? `from ${plural(s.inputs, 'column')}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const dropped = s.dropped.length ? `${formatCount(s.dropped.length)} dropped` : '';
  return [made, dropped].filter(Boolean).join(', ');
}

const trainBrief = (s: TrainSummary): string =>
  [
    s.model ? `\`${escapeText(truncate(s.model, 40))}\`` : undefined,
    s.trainRows !== undefined ? `on ${plural(s.trainRows, 'row')}` : undefined,
    s.seconds !== undefined ? `in ${s.seconds.toFixed(1)} s` : undefined,
  ]
    .filter(Boolean)
    .join(' ');

function evaluateBrief(s: EvaluateSummary): string {
  const c = s.comparison;
  if (c) {
    return `${escapeText(c.metric)} ${formatMetric(c.challenger)} vs production ${formatMetric(c.champion)} (${formatDelta(c.delta)})`;
  }
  const [name] = orderMetrics(Object.keys(s.metrics));
  return name === undefined ? '' : `${escapeText(name)} ${formatMetric(s.metrics[name])}`;
}

/**
 * One short line for a finished stage (`12,345 rows × 14 columns · dataset a1b2c3d4e5f6`),
 * used in the run's checklist; empty when the summary says nothing readable.
 */
export function stageHeadline(stage: StageName, summary: unknown): string {
  switch (stage) {
    case 'ingest': {
      const s = readIngest(summary);
      return s ? ingestBrief(s) : '';
    }
    case 'checks': {
      const s = readChecks(summary);
      return s ? checksBrief(s) : '';
    }
    case 'features': {
      const s = readFeatures(summary);
      return s ? featuresBrief(s) : '';
    }
    case 'train': {
      const s = readTrain(summary);
      return s ? trainBrief(s) : '';
    }
    case 'evaluate': {
      const s = readEvaluate(summary);
      return s ? evaluateBrief(s) : '';
    }
    case 'deploy': {
      const s = readDeploy(summary);
      return s?.production === undefined ? '' : deployBrief(s);
    }
    default:
      return '';
  }
}

function ingestBlocks(s: IngestSummary): KnownBlock[] {
  return fields([
    ['Rows', s.rows !== undefined ? formatCount(s.rows) : 'n/a'],
    ['Columns', s.columns !== undefined ? formatCount(s.columns) : 'n/a'],
    ['Dataset', s.dataset ? `\`${escapeText(shortHash(s.dataset))}\`` : 'n/a'],
    ['PII columns removed', s.piiRemoved !== undefined ? formatCount(s.piiRemoved) : 'n/a'],
  ]);
}

function checksBlocks(s: ChecksSummary): KnownBlock[] {
  const failures = s.results.filter((r) => !r.passed);
  if (failures.length === 0) return [];
  const lines = failures.slice(0, MAX_CHECK_LINES).map((r) => {
    const column = r.column ? ` \`${escapeText(truncate(r.column, 80))}\`` : '';
    const observed = r.observed !== undefined ? `: ${escapeText(truncate(r.observed, 200))}` : '';
    return `✗ ${escapeText(truncate(r.check, 60))}${column}${observed}`;
  });
  if (failures.length > MAX_CHECK_LINES) lines.push(`… and ${failures.length - MAX_CHECK_LINES} more`);
  return sections(['*Failed checks*', ...lines]);
}

function featuresBlocks(s: FeaturesSummary): KnownBlock[] {
  return s.dropped.length ? [section(`*Dropped:* ${listed(s.dropped, MAX_DROPPED)}`)] : [];
}

function trainBlocks(s: TrainSummary): KnownBlock[] {
  const lines: string[] = [];
  if (s.params && Object.keys(s.params).length)
    lines.push(`*Params:* \`${escapeText(formatParams(s.params))}\``);
  const t = s.tuning;
  if (t) {
    const best = t.metric
      ? `best ${escapeText(t.metric)} ${formatMetric(t.bestScore)}`
      : 'best parameters above';
    lines.push(`*Tuning:* ${best}${t.trials !== undefined ? ` over ${plural(t.trials, 'trial')}` : ''}`);
  }
  return sections(lines);
}

/** `✓ roc_auc 0.912 ≥ 0.800 (margin 0.112)` / `✗ rmse 5.100, needs ≤ 4.000 (gap 1.100)`. */
export function thresholdLine(t: ThresholdLine): string {
  const op = lowerIsBetter(t.metric) ? '≤' : '≥';
  const name = escapeText(truncate(t.metric, 40));
  const limit = formatMetric(t.threshold);
  if (t.value === null || t.value === undefined) return `✗ ${name} ${op} ${limit}: not measured`;
  const gap =
    t.gap === null || t.gap === undefined
      ? ''
      : ` (${t.passed ? 'margin' : 'gap'} ${formatMetric(Math.abs(t.gap))})`;
  const value = formatMetric(t.value);
  return t.passed
    ? `✓ ${name} ${value} ${op} ${limit}${gap}`
    : `✗ ${name} ${value}, needs ${op} ${limit}${gap}`;
}

function evaluateBlocks(s: EvaluateSummary): KnownBlock[] {
  const names = orderMetrics([...Object.keys(s.metrics), ...Object.keys(s.cv?.mean ?? {})]);
  const blocks: KnownBlock[] = [];
  if (names.length) {
    const cv = s.cv ? s.cv.mean : null;
    const head = cv ? ['metric', 'holdout', `${s.cv?.folds ?? 'k'}-fold cv`] : ['metric', 'holdout'];
    const rows = names.map((n) =>
      cv ? [n, formatMetric(s.metrics[n]), formatMetric(cv[n])] : [n, formatMetric(s.metrics[n])],
    );
    blocks.push(section(textTable(head, rows, LIMITS.sectionText)));
  }
  const lines: string[] = [];
  if (s.thresholds.length) lines.push('*Thresholds*', ...s.thresholds.map(thresholdLine));
  const c = s.comparison;
  if (c) {
    lines.push(
      `*vs production${s.champion?.version !== undefined ? ` v${s.champion.version}` : ''}:* ${escapeText(c.metric)} ` +
        `${formatMetric(c.challenger)} vs ${formatMetric(c.champion)} (${formatDelta(c.delta)} ${verdict(c.metric, c.delta)})`,
    );
  } else if (s.champion?.note) {
    lines.push(
      `*vs production v${s.champion.version ?? '?'}:* ${escapeText(truncate(s.champion.note, 500))}`,
    );
  } else if (s.champion === null) {
    lines.push('No model in production yet: nothing to compare with.');
  }
  blocks.push(...sections(lines));
  const facts = [
    s.holdoutRows !== undefined ? `holdout ${plural(s.holdoutRows, 'row')}` : '',
    s.cv?.folds !== undefined ? `${s.cv.folds}-fold cross-validation on the training rows` : '',
    s.version !== undefined ? `registered as v${s.version}` : '',
  ];
  if (facts.some(Boolean)) blocks.push(context(facts.filter(Boolean).join(' · ')));
  return blocks;
}

function detailBlocks(stage: StageName, summary: unknown): KnownBlock[] {
  switch (stage) {
    case 'ingest': {
      const s = readIngest(summary);
      return s ? ingestBlocks(s) : [];
    }
    case 'checks': {
      const s = readChecks(summary);
      return s ? checksBlocks(s) : [];
    }
    case 'features': {
      const s = readFeatures(summary);
      return s ? featuresBlocks(s) : [];
    }
    case 'train': {
      const s = readTrain(summary);
      return s ? trainBlocks(s) : [];
    }
    case 'evaluate': {
      const s = readEvaluate(summary);
      return s ? evaluateBlocks(s) : [];
    }
    default:
      return [];
  }
}

/**
 * The thread reply for `stage` of `run`: its summary when it finished, or the error
 * report when the run failed in it. A stage without a readable summary still gets a
 * one-line "finished".
 */
export function stageReport(run: RunView, stage: StageName): Message {
  const title = stageTitle(stage);
  const where = `#${run.number} ${pipelineName(run.pipeline)}`;
  const error = run.error;
  if (error && error.stage === stage && !(stage in run.summaries)) {
    const attempt = error.attempt ? ` (attempt ${error.attempt})` : '';
    return {
      text: `❌ ${title} failed for ${where}${attempt}: ${firstLine(error.message, 300)}`,
      blocks: [
        section(`❌ *${title}* failed for ${where}${attempt}`),
        section(codeBlock(escapeText(error.message), LIMITS.sectionText)),
      ],
    };
  }
  const summary = run.summaries[stage];
  const headline = stageHeadline(stage, summary);
  const text = `✅ ${title} finished for ${where}${headline ? `: ${headline}` : ''}`;
  // Ingest's fields already say everything its headline does.
  const lead = `✅ *${title}* finished for ${where}${headline && stage !== 'ingest' ? `\n${headline}` : ''}`;
  const blocks = [section(lead), ...detailBlocks(stage, summary)];
  return { text: truncate(text, 500), blocks: fitBlocks(blocks, LIMITS.messageBlocks) };
}
