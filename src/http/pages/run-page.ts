/**
 * A run's page (`/runs/:n`): everything the chat messages summarise, in full. What was
 * asked and by whom, the evidence an approver weighs (this run's metrics beside
 * production's, the thresholds, the data checks, the dataset), the approval chart, the
 * audit trail with its actors, every stage attempt, and the exact spec the run used.
 */
import { formatCount, formatDelta, formatMetric, lowerIsBetter, verdict } from '../../bot/views/format.ts';
import { modelPath, runPath } from '../../bot/views/links.ts';
import { stageTitle, stateEmoji } from '../../bot/views/run-state.ts';
import {
  type ChecksSummary,
  checkCounts,
  compareMetrics,
  type EvaluateSummary,
  readChecks,
  readEvaluate,
  readIngest,
  readTrain,
} from '../../bot/views/summaries.ts';
import { stateLabel } from '../../workflows/explain.ts';
import type { RunDetail, TimelineEntry } from '../../workflows/run-service.ts';
import { causeText } from '../../workflows/run-view.ts';
import { type Html, html, page, section, table, when } from './layout.ts';

export type RunPageInput = RunDetail & {
  /** The spec the run was started with, as YAML, and its hash. */
  spec: { yaml: string; hash: string } | null;
  /** The approval chart at `/runs/:n/chart.png`, when the run has one. */
  chart: { altText: string } | null;
};

const who = (actor: string, via: string | null | undefined) => (via ? `${actor} (via ${via})` : actor);

export function runPage(input: RunPageInput): string {
  const { run } = input;
  return page({
    title: `#${run.number} ${run.pipeline}`,
    heading: html`${stateEmoji(run.state)} Run #${run.number} <a href="${modelPath(run.pipeline)}">${run.pipeline}</a>: ${stateLabel(run.state)}`,
    body: [
      facts(input),
      evidence(readEvaluate(run.summaries.evaluate)),
      input.chart &&
        section(
          'chart',
          'Chart',
          html`<figure><img src="${runPath(run.number)}/chart.png" alt="${input.chart.altText}" width="720"><figcaption>${input.chart.altText}</figcaption></figure>`,
        ),
      checks(readChecks(run.summaries.checks)),
      section('timeline', 'Timeline', timeline(input.timeline)),
      section(
        'attempts',
        'Stage attempts',
        input.attempts.length
          ? table(
              ['Stage', 'Attempt', 'Status', 'Worker', 'Started', 'Finished', 'Error'],
              input.attempts.map((a) => [
                stageTitle(a.stage),
                a.attempt,
                a.status,
                a.worker ?? '',
                when(a.startedAt),
                when(a.finishedAt),
                a.error ? html`<code>${a.error.split('\n')[0]}</code>` : '',
              ]),
            )
          : html`<p>No stage has started yet.</p>`,
      ),
      input.spec &&
        section(
          'spec',
          'Spec',
          html`<p>The spec this run was started with, hash <code>${input.spec.hash}</code>:</p><pre><code>${input.spec.yaml}</code></pre>`,
        ),
    ],
  });
}

function facts({ run, spec }: RunPageInput): Html {
  const ingest = readIngest(run.summaries.ingest);
  const train = readTrain(run.summaries.train);
  const evaluate = readEvaluate(run.summaries.evaluate);
  const params = Object.entries(run.params);
  const rows: [string, Html | string][] = [
    ['Kind', run.kind],
    ['State', html`${stateEmoji(run.state)} ${stateLabel(run.state)}`],
    ['Requested by', html`${run.requestedBy} at ${when(run.createdAt)}`],
  ];
  if (run.cause) rows.push(['Cause', causeText(run.cause)]);
  if (params.length) rows.push(['Params', html`${params.map(([k, v]) => html`<code>${k}=${v}</code> `)}`]);
  if (run.deadline && run.state === 'awaitingApproval') rows.push(['Decide by', when(run.deadline)]);
  for (const a of run.approvals) rows.push(['Approved by', html`${who(a.by, a.via)} at ${when(a.at)}`]);
  if (run.rejection) {
    rows.push([
      'Rejected by',
      html`${who(run.rejection.by, run.rejection.via)} at ${when(run.rejection.at)}${run.rejection.reason ? html`: <q>${run.rejection.reason}</q>` : ''}`,
    ]);
  }
  if (run.error)
    rows.push([
      'Error',
      html`${run.error.stage ? `in ${stageTitle(run.error.stage)}: ` : ''}<code>${run.error.message}</code>`,
    ]);
  if (run.finishedAt) rows.push(['Finished', when(run.finishedAt)]);
  if (ingest) {
    const size =
      ingest.rows === undefined
        ? 'size unknown'
        : `${formatCount(ingest.rows)} rows${ingest.columns === undefined ? '' : ` × ${formatCount(ingest.columns)} columns`}`;
    rows.push([
      'Dataset',
      html`${size}${ingest.piiRemoved ? `, ${formatCount(ingest.piiRemoved)} PII columns removed` : ''}; hash <code>${ingest.dataset ?? 'not recorded'}</code>`,
    ]);
  }
  if (train?.model)
    rows.push([
      'Model',
      `${train.model}${train.trainRows !== undefined ? ` on ${formatCount(train.trainRows)} rows` : ''}`,
    ]);
  if (evaluate?.version !== undefined)
    rows.push([
      'Registered',
      html`<a href="${modelPath(run.pipeline)}">${run.pipeline} v${evaluate.version}</a>`,
    ]);
  if (spec) rows.push(['Spec hash', html`<code>${spec.hash}</code>`]);
  return section(
    'facts',
    'Run',
    html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`,
  );
}

/** This run's metrics beside production's on the same holdout, the gate, and the thresholds. */
function evidence(evaluate: EvaluateSummary | null): Html | null {
  if (!evaluate) return null;
  const champion = evaluate.champion;
  const thresholds = new Map(evaluate.thresholds.map((t) => [t.metric, t]));
  const rows = compareMetrics(evaluate, thresholds.keys()).map(({ name, production, delta, ...m }) => {
    const value = m.value ?? thresholds.get(name)?.value ?? undefined;
    const t = thresholds.get(name);
    const limit = t ? `${lowerIsBetter(name) ? '≤' : '≥'} ${formatMetric(t.threshold)}` : '';
    const result = !t ? '' : value === undefined ? 'not measured' : t.passed ? '✓ met' : '✗ missed';
    return [
      name,
      formatMetric(value),
      champion?.metrics ? formatMetric(production) : '',
      champion?.metrics ? `${formatDelta(delta)} ${verdict(name, delta)}`.trim() : '',
      limit,
      html`<span class="${!t ? '' : t.passed ? 'ok' : 'bad'}">${result}</span>`,
    ];
  });
  const against = !champion
    ? 'No model is in production yet: this would be the first.'
    : champion.metrics
      ? `Production is v${champion.version ?? '?'}, measured on the same holdout${evaluate.holdoutRows !== undefined ? ` of ${formatCount(evaluate.holdoutRows)} rows` : ''}.`
      : `Production v${champion.version ?? '?'} could not be compared${champion.note ? `: ${champion.note}` : '.'}`;
  const c = evaluate.comparison;
  const met = evaluate.thresholds.filter((t) => t.passed).length;
  return section(
    'evidence',
    'Metrics',
    html`<p>${against}${evaluate.thresholds.length ? ` ${met} of ${evaluate.thresholds.length} thresholds met.` : ''}</p>
${table(['Metric', 'This run', 'Production', 'Δ', 'Threshold', 'Result'], rows, 'metrics')}
${c ? html`<p>Gate: ${c.metric} ${formatMetric(c.challenger)} against production's ${formatMetric(c.champion)} (${formatDelta(c.delta)} ${verdict(c.metric, c.delta)}).</p>` : ''}`,
  );
}

function checks(summary: ChecksSummary | null): Html | null {
  if (!summary) return null;
  const { passed, failed } = checkCounts(summary);
  return section(
    'checks',
    'Data checks',
    html`<p>${formatCount(passed)} passed, ${formatCount(failed)} failed.</p>${table(
      ['Check', 'Column', 'Result', 'Observed'],
      summary.results.map((r) => [
        r.check,
        r.column ?? '',
        html`<span class="${r.passed ? 'ok' : 'bad'}">${r.passed ? '✓ pass' : '✗ fail'}</span>`,
        r.observed ?? '',
      ]),
    )}`,
  );
}

function timeline(entries: readonly TimelineEntry[]): Html {
  return table(
    ['#', 'At', 'Who', 'Event', 'State', 'Why'],
    entries.map((e) => [
      e.seq,
      when(e.at),
      who(e.actor, e.via),
      describeEvent(e),
      e.from === e.to || e.from === null ? e.to : `${e.from} → ${e.to}`,
      e.reason ?? '',
    ]),
  );
}

function describeEvent(e: TimelineEntry): string {
  const d = e.detail as { stage?: string; attempt?: number; message?: string; error?: string };
  if (!d.stage) return e.type;
  const error = d.error?.split('\n')[0];
  return `${e.type} ${stageTitle(d.stage)}${d.attempt ? ` (attempt ${d.attempt})` : ''}${d.message ? `: ${d.message}` : ''}${error ? `: ${error}` : ''}`;
}
