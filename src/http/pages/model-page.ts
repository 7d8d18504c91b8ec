/**
 * A model's page (`/models/:name`): which version serves and with what share of traffic,
 * every registered version with its metrics, the production alias's history, the drift
 * alerts, and the latest drift report feature by feature with its chart.
 */

import { statisticLine } from '../../bot/views/drift-alert.ts';
import { formatCount, formatMetric, orderMetrics } from '../../bot/views/format.ts';
import { modelPath, runPath } from '../../bot/views/links.ts';
import { stateEmoji } from '../../bot/views/run-state.ts';
import type { HistoryEntry } from '../../workflows/deployments.ts';
import { stateLabel } from '../../workflows/explain.ts';
import type { AlertView, Monitoring, ReportView } from '../../workflows/monitoring.ts';
import type { RunView } from '../../workflows/run-engine.ts';
import type { ModelView } from '../../workflows/run-service.ts';
import { type Html, html, page, section, table, when } from './layout.ts';

export type ModelPageInput = {
  pipeline: string;
  versions: ModelView[];
  history: HistoryEntry[];
  runs: RunView[];
  alerts: AlertView[];
  /** The latest drift report, null before the first check or where monitoring is not served. */
  drift: ReportView | null;
  driftHistory: Awaited<ReturnType<Monitoring['history']>>;
  /** The latest report's chart at `/models/:name/drift.png`, when it has one. */
  chart: { altText: string } | null;
};

const runLink = (n: number | null) => (n === null ? '' : html`<a href="${runPath(n)}">#${n}</a>`);
const percent = (share: number) => `${Math.round(share * 100)}%`;

export function modelPage(input: ModelPageInput): string {
  const { pipeline } = input;
  return page({
    title: pipeline,
    heading: html`Model ${pipeline}`,
    body: [
      serving(input.versions),
      section('versions', 'Versions', versions(input.versions)),
      section(
        'history',
        'Production history',
        input.history.length
          ? table(
              ['From', 'Until', 'Change', 'Serving', 'Replaced', 'Run', 'By', 'Approved by'],
              input.history.map((e) => [
                when(e.from),
                e.until ? when(e.until) : 'now',
                `${e.action}${e.undoneBy ? ' (undone)' : ''}`,
                e.strategy === 'canary'
                  ? `v${e.version} + v${e.candidate} canary ${e.canaryPercent}%`
                  : e.strategy === 'shadow'
                    ? `v${e.version} + v${e.candidate} shadow`
                    : `v${e.version}`,
                e.replaced === null ? '' : `v${e.replaced}`,
                runLink(e.run),
                e.actor,
                e.approvedBy.join(', '),
              ]),
            )
          : html`<p>Nothing has been deployed yet.</p>`,
      ),
      section('drift', 'Drift', drift(input)),
      input.alerts.length > 0 &&
        section(
          'alerts',
          'Drift alerts',
          table(
            ['Alert', 'Version', 'Status', 'Raised', 'Snoozed until', 'Retrain run', 'Resolved'],
            input.alerts.map((a) => [
              `#${a.number}`,
              `v${a.version}`,
              a.status,
              when(a.createdAt),
              when(a.snoozedUntil),
              a.retrainRun === null ? '' : html`${runLink(a.retrainRun)} ${a.retrainState ?? ''}`,
              when(a.resolvedAt),
            ]),
          ),
        ),
      section(
        'runs',
        'Recent runs',
        input.runs.length
          ? table(
              ['Run', 'Kind', 'State', 'Requested by', 'Started'],
              input.runs.map((r) => [
                runLink(r.number),
                r.kind,
                html`${stateEmoji(r.state)} ${stateLabel(r.state)}`,
                r.requestedBy,
                when(r.createdAt),
              ]),
            )
          : html`<p>No runs yet: <code>steward run ${pipeline}</code> starts one.</p>`,
      ),
    ],
  });
}

/** Who answers predictions now, with their shares of the traffic. */
function serving(versions: readonly ModelView[]): Html {
  const serving = versions.filter((v) => v.serving !== null);
  return section(
    'serving',
    'Serving',
    serving.length
      ? table(
          ['Version', 'Role', 'Traffic', 'From run'],
          serving.map((v) => [`v${v.version}`, v.serving ?? '', `${v.traffic}%`, runLink(v.run)]),
          'serving',
        )
      : html`<p>No version serves yet: a run that is approved deploys one.</p>`,
  );
}

function versions(list: readonly ModelView[]): Html {
  if (list.length === 0) return html`<p>No version is registered yet.</p>`;
  const names = orderMetrics(
    new Set(list.flatMap((v) => Object.keys(v.metrics).filter((k) => typeof v.metrics[k] === 'number'))),
  );
  return table(
    ['Version', 'Type', ...names, 'Dataset', 'Spec', 'Run', 'Registered'],
    list.map((v) => [
      html`v${v.version}${v.production ? html` <strong>production</strong>` : ''}`,
      v.modelType,
      ...names.map((n) => formatMetric(v.metrics[n] as number | undefined)),
      html`<code>${v.datasetHash.slice(0, 12)}</code>`,
      html`<code>${v.specHash.slice(0, 12)}</code>`,
      runLink(v.run),
      when(v.createdAt),
    ]),
  );
}

function drift({ pipeline, drift, driftHistory, chart }: ModelPageInput): Html {
  if (!drift) {
    return html`<p>No drift check yet: one runs on the spec's <code>monitoring.schedule</code>, or now with <code>steward drift ${pipeline}</code>.</p>`;
  }
  const { report } = drift;
  const columns = [...report.drift.columns].sort((a, b) => Number(b.drifted) - Number(a.drifted));
  return html`<p>Latest check at ${when(drift.createdAt)} (${drift.trigger}) of v${drift.version}: <strong>${report.drift.drifted} of ${report.drift.monitored}</strong> features drifted (${percent(report.drift.share)}; dataset drift at ${percent(report.drift.shareThreshold)}${report.drift.datasetDrift ? ', reached' : ''}). ${formatCount(report.drift.currentRows)} ${report.settings.current === 'source' ? 'source rows' : 'logged predictions'} against ${formatCount(report.drift.referenceRows)} training rows.</p>
${chart ? html`<figure><img src="${modelPath(pipeline)}/drift.png" alt="${chart.altText}" width="720"><figcaption>${chart.altText}</figcaption></figure>` : ''}
${table(
  ['Feature', 'Kind', 'Status', 'Statistic'],
  columns.map((c) => [
    c.column,
    c.kind,
    html`<span class="${c.drifted ? 'bad' : 'ok'}">${c.status === 'not_enough_data' ? 'not enough data' : c.drifted ? 'drifted' : 'ok'}</span>`,
    statisticLine(c),
  ]),
  'drift',
)}
${report.prediction ? html`<p>Predictions: ${report.prediction.drifted ? 'drifted' : 'stable'} (${statisticLine(report.prediction)}).</p>` : ''}
${(report.performance?.metrics ?? []).map((m) => html`<p>Live ${m.name} ${formatMetric(m.live)} on ${formatCount(report.performance?.labelled ?? 0)} labelled rows (training ${formatMetric(m.training)}).</p>`)}
${
  driftHistory.length > 1
    ? html`<h3>Earlier checks</h3>${table(
        ['At', 'Version', 'Trigger', 'Rows', 'Share drifted', 'Drifted features'],
        driftHistory.map((h) => [
          when(h.createdAt.toISOString()),
          `v${h.version}`,
          h.trigger,
          formatCount(h.currentRows),
          percent(h.share),
          h.driftedColumns.join(', '),
        ]),
      )}`
    : ''
}`;
}
