/**
 * Drift alerts in chat. Each page (the first, a repeat, a worsening) is a message in the
 * alert channel naming the drifted features with their statistic and threshold; the newest
 * page of a firing alert carries [Retrain now], [Snooze 24h] and [Details]. Snoozes,
 * retrains and the "resolved" note are replies in the thread of the page before them.
 * Every page is redrawn as the alert changes, so no stale button stays pressable.
 */
import type { KnownBlock, ModalView } from '@slack/types';
import type { TopLevelSpec } from 'vega-lite';
import { z } from 'zod';
import type { AlertEventRow } from '../../db/drift-repo.ts';
import { driftHistogramsChart, MAX_DRIFT_PANELS } from '../../stages/charts/specs.ts';
import type { ColumnDrift, DriftTest } from '../../stages/drift/index.ts';
import { type AlertView, type MonitorReport, severity } from '../../workflows/monitoring.ts';
import { SYSTEM_ACTOR } from '../../workflows/run-engine.ts';
import { actions, button, context, header, type Message, plain, section, sections } from './blocks.ts';
import {
  atTime,
  escapeText,
  formatCount,
  formatMetric,
  formatTime,
  mention,
  plural,
  textTable,
} from './format.ts';
import { LIMITS, truncate } from './limits.ts';
import { detailsButton } from './links.ts';

export const RETRAIN_ACTION = 'drift.retrain';
export const SNOOZE_ACTION = 'drift.snooze';
export const DETAILS_ACTION = 'drift.details';
/** How long [Snooze 24h] silences an alert. */
export const SNOOZE_MS = 24 * 3_600_000;

/** What the alert buttons send back: the alert's number. Everything else is read on click. */
export const AlertButtonValue = z.object({ alert: z.number().int().positive() });
export type AlertButtonValue = z.infer<typeof AlertButtonValue>;

export function parseAlertButtonValue(value: string | undefined): AlertButtonValue | null {
  if (!value) return null;
  try {
    const parsed = AlertButtonValue.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

const TEST_NAMES: Record<DriftTest, string> = {
  ks: 'KS test',
  psi: 'PSI',
  wasserstein: 'Wasserstein (normed)',
  chisquare: 'χ² test',
  z: 'Z-test',
  jensenshannon: 'Jensen–Shannon',
};

export const testName = (test: DriftTest) => TEST_NAMES[test] ?? test;

/** "Wasserstein (normed) 0.312 ≥ 0.1", or "KS test p = 0.0004 < 0.05 (D 0.21)". */
export function statisticLine(column: ColumnDrift): string {
  if (column.score === null) return column.message ?? 'not enough data';
  if (column.pValue != null) {
    const relation = column.pValue < column.threshold ? '<' : '≥';
    return `${testName(column.test)} p = ${formatP(column.pValue)} ${relation} ${column.threshold} (statistic ${formatMetric(column.score)})`;
  }
  const relation = column.score >= column.threshold ? '≥' : '<';
  return `${testName(column.test)} ${formatMetric(column.score)} ${relation} ${column.threshold}`;
}

/**
 * The chart of a drift report: the most drifted features' histograms, training data against
 * now, as a vega-lite spec, with the features it shows. Null when no drifted feature has a
 * histogram to draw. Posted under an alert's page and shown on the model page.
 */
export function driftChart(
  report: MonitorReport,
  title: string,
): { spec: TopLevelSpec; columns: string[] } | null {
  const columns = report.drift.columns
    .filter((c) => c.drifted && c.histogram.labels.length > 0)
    .sort((a, b) => severity(b) - severity(a))
    .slice(0, MAX_DRIFT_PANELS);
  if (columns.length === 0) return null;
  const spec = driftHistogramsChart(
    columns.map((c) => ({
      title: `${c.column}: ${statisticLine(c)}`,
      labels: c.histogram.labels,
      reference: c.histogram.reference,
      current: c.histogram.current,
    })),
    title,
  );
  return { spec, columns: columns.map((c) => c.column) };
}

const formatP = (p: number) => (p === 0 ? '0' : p < 0.0001 ? p.toExponential(1) : p.toFixed(4));

const PAGE_TITLES: Record<string, string> = {
  fired: 'Drift detected',
  repeated: 'Still drifting',
  worsened: 'Drift got worse',
};

export type PageInput = {
  alert: AlertView;
  /** The page's own event (`fired`, `repeated`, `worsened`). */
  event: AlertEventRow;
  report: MonitorReport | null;
  /** Only the newest page of a firing alert has buttons. */
  latest: boolean;
  /** The model page's URL on this surface: [Details] links there (else it opens the report in a modal). */
  details?: string;
};

export function alertPage({ alert, event, report, latest, details }: PageInput): Message {
  const title = `${PAGE_TITLES[event.type] ?? 'Drift'} in ${alert.pipeline} v${alert.version}`;
  const drifted = report
    ? report.drift.columns.filter((c) => c.drifted).sort((a, b) => severity(b) - severity(a))
    : [];
  const blocks: KnownBlock[] = [header(truncate(`${statusIcon(alert)} ${title}`, LIMITS.headerText))];
  if (report) {
    const { drift } = report;
    blocks.push(
      section(
        `*${drift.drifted} of ${plural(drift.monitored, 'feature')}* drifted (${percent(drift.share)}; dataset drift at ${percent(drift.shareThreshold)}${drift.datasetDrift ? ', reached' : ''}). ` +
          `Compared ${formatCount(drift.currentRows)} ${report.settings.current === 'source' ? 'source rows' : 'logged predictions'} with ${formatCount(drift.referenceRows)} training rows.`,
      ),
    );
    const lines = drifted.slice(0, 8).map((c) => `• *${escapeText(c.column)}*: ${statisticLine(c)}`);
    if (drifted.length > 8) lines.push(`… and ${drifted.length - 8} more`);
    if (lines.length) blocks.push(...sections(lines));
    const worse = worseLine(event);
    if (worse) blocks.push(section(worse));
    const extra: string[] = [];
    if (report.prediction?.drifted)
      extra.push(`Predictions drifted too: ${statisticLine(report.prediction)}`);
    for (const m of report.performance?.metrics ?? []) {
      extra.push(
        `Live ${m.name} ${formatMetric(m.live)} on ${formatCount(report.performance?.labelled ?? 0)} labelled rows (training ${formatMetric(m.training)})`,
      );
    }
    if (extra.length) blocks.push(context(...extra.map(escapeText)));
  }
  blocks.push(context(statusLine(alert, event)));
  if (latest && alert.status === 'firing') {
    const value = JSON.stringify({ alert: alert.number } satisfies AlertButtonValue);
    const buttons = [
      ...(alert.retrainRun
        ? []
        : [button({ text: 'Retrain now', actionId: RETRAIN_ACTION, value, style: 'primary' })]),
      ...(isSnoozed(alert) ? [] : [button({ text: 'Snooze 24h', actionId: SNOOZE_ACTION, value })]),
      details ? detailsButton(details) : button({ text: 'Details', actionId: DETAILS_ACTION, value }),
    ];
    blocks.push(actions(buttons, `drift-alert-${alert.number}`));
  } else if (details) {
    blocks.push(actions([detailsButton(details)], `drift-alert-${alert.number}`));
  }
  const names = drifted
    .slice(0, 3)
    .map((c) => c.column)
    .join(', ');
  return { text: `${title}: ${names || 'see the report'} (drift alert #${alert.number})`, blocks };
}

function worseLine(event: AlertEventRow): string | null {
  if (event.type !== 'worsened') return null;
  const detail = event.detail as {
    newly?: string[];
    grown?: string[];
    before?: Record<string, number>;
    columns?: Record<string, number>;
  };
  const parts: string[] = [];
  if (detail.newly?.length) parts.push(`newly drifting: ${detail.newly.map(escapeText).join(', ')}`);
  for (const column of detail.grown ?? []) {
    parts.push(
      `${escapeText(column)} ${formatMetric(detail.before?.[column])} → ${formatMetric(detail.columns?.[column])}`,
    );
  }
  return parts.length ? `Worse since the last page: ${parts.join('; ')}` : null;
}

/** A retrain is under way, or deployed: [Retrain now] has nothing more to do. */
const retrainOpen = (alert: AlertView) =>
  alert.retrainRun !== null &&
  !['failed', 'rejected', 'expired', 'cancelled'].includes(alert.retrainState ?? '');

const isSnoozed = (alert: AlertView) =>
  alert.snoozedUntil !== null && Date.parse(alert.snoozedUntil) > Date.now();

function statusIcon(alert: AlertView): string {
  if (alert.status === 'resolved') return '✅';
  return isSnoozed(alert) ? '🔕' : '🔶';
}

function statusLine(alert: AlertView, event: AlertEventRow): string {
  const parts = [`Drift alert #${alert.number} · ${atTime(event.createdAt.toISOString())}`];
  if (alert.status === 'resolved') parts.push(`resolved ${atTime(alert.resolvedAt)}`);
  else if (isSnoozed(alert))
    parts.push(`snoozed until ${formatTime(alert.snoozedUntil)} by ${mention(alert.snoozedBy ?? '')}`);
  else parts.push(`firing; next repeat only if it gets worse or stays for the repeat interval`);
  if (alert.retrainRun) {
    parts.push(
      retrainOpen(alert)
        ? `retraining: run #${alert.retrainRun}`
        : `retrain run #${alert.retrainRun} ended ${alert.retrainState}; [Retrain now] tries again`,
    );
  }
  return parts.join(' · ');
}

const percent = (share: number) => `${Math.round(share * 100)}%`;

/** A reply in the thread of the page before it: resolved, snoozed, retrain started. */
export function alertNote(alert: AlertView, event: AlertEventRow): Message {
  const detail = event.detail as { until?: string; run?: number; source?: string; replacedBy?: number };
  let text: string;
  if (event.type === 'resolved' && detail.replacedBy !== undefined) {
    text = `✅ Closed: ${alert.pipeline} v${detail.replacedBy} serves now, so this alert about v${alert.version} no longer applies; v${detail.replacedBy} is checked on its own.`;
  } else if (event.type === 'resolved') {
    const left = Object.keys((event.detail as { columns?: Record<string, number> }).columns ?? {});
    text = left.length
      ? `✅ Resolved: ${alert.pipeline} no longer shows dataset drift (checked ${atTime(event.createdAt.toISOString())}); ${left.map(escapeText).join(', ')} still drift on their own.`
      : `✅ Resolved: no monitored feature of ${alert.pipeline} drifts any more (checked ${atTime(event.createdAt.toISOString())}).`;
  } else if (event.type === 'snoozed') {
    text = `🔕 ${mention(event.actor)} snoozed this alert until ${formatTime(detail.until ?? null)}. A resolved check is still posted.`;
  } else {
    const by = event.actor === SYSTEM_ACTOR ? 'Steward (`on_drift: retrain`)' : mention(event.actor);
    const data = detail.source === 'feedback' ? 'the labelled predictions' : "the spec's source, read again";
    text = `🔁 ${by} started a retrain: run #${detail.run} on ${data}. It stops at the approval gate.`;
  }
  return { text, blocks: [section(text)] };
}

/** Every monitored column with every statistic that applies, the deciding test marked. */
function reportBlocks(pipeline: string, heading: string, report: MonitorReport): KnownBlock[] {
  const { drift, settings } = report;
  const rows = drift.columns.map((c) => [
    `${c.drifted ? '▲ ' : ''}${c.column}`,
    testName(c.test),
    c.score === null ? 'n/a' : formatMetric(c.score),
    c.pValue == null ? '' : formatP(c.pValue),
    c.status === 'not_enough_data' ? 'no data' : c.drifted ? 'drift' : 'ok',
  ]);
  return [
    section(
      `${heading} · ${drift.drifted} of ${plural(drift.monitored, 'feature')} drifted (${percent(drift.share)})${drift.datasetDrift ? ', dataset drift' : ''}; ` +
        `thresholds: distance ${settings.threshold}, p-value ${settings.pValue}, dataset share ${percent(settings.share)}.`,
    ),
    section(textTable(['feature', 'test', 'score', 'p', ''], rows, LIMITS.sectionText)),
    ...(report.prediction ? [context(escapeText(`Prediction: ${statisticLine(report.prediction)}`))] : []),
    context(
      escapeText(
        `Every statistic per feature: \`steward drift ${pipeline} --json\` or GET /api/pipelines/${pipeline}/drift`,
      ),
    ),
  ];
}

/** [Details]: the alert's latest report in a modal. */
export function driftDetailsModal(alert: AlertView, report: MonitorReport | null): ModalView {
  return {
    type: 'modal',
    title: plain(`Drift alert #${alert.number}`, LIMITS.modalTitle),
    close: plain('Close', LIMITS.buttonText),
    blocks: report
      ? reportBlocks(alert.pipeline, `*${escapeText(alert.pipeline)} v${alert.version}*`, report)
      : [section('The report of this alert is no longer stored.')],
  };
}

/** A drift report in chat (`/mlops drift churn`). */
export function driftReportMessage(
  pipeline: string,
  report: MonitorReport | null,
  checkedAt?: string,
): Message {
  if (!report) {
    const text = `No drift check of ${pipeline} yet: one runs on its \`monitoring.schedule\`, or now with \`steward drift ${pipeline}\`.`;
    return { text, blocks: [section(text)] };
  }
  const heading = `*Drift of ${escapeText(pipeline)}*${checkedAt ? ` at ${atTime(checkedAt)}` : ''}`;
  return {
    text: `Drift of ${pipeline}: ${report.drift.drifted} of ${report.drift.monitored} features drifted`,
    blocks: reportBlocks(pipeline, heading, report),
  };
}
