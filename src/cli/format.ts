/**
 * The CLI's plain-text views: aligned tables for a terminal, no markup. `steward show`
 * prints the same evidence an approver gets on the approval card (data checks, metrics
 * against thresholds, the comparison with production, the dataset) read from the run's
 * stage summaries, which may come from an older or newer Steward: what is missing is skipped.
 */
import {
  formatCount,
  formatDelta,
  formatMetric,
  lowerIsBetter,
  orderMetrics,
  verdict,
} from '../bot/views/format.ts';
import {
  type ChecksSummary,
  checkCounts,
  compareMetrics,
  type EvaluateSummary,
  type IngestSummary,
  readChecks,
  readEvaluate,
  readIngest,
} from '../bot/views/summaries.ts';
import type { GrantView, TokenView, WhoAmI } from '../workflows/access.ts';
import type { HistoryEntry } from '../workflows/deployments.ts';
import { stateLabel } from '../workflows/explain.ts';
import type { RunView } from '../workflows/run-engine.ts';
import type { ModelView, RunDetail } from '../workflows/run-service.ts';

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

export function formatRuns(runs: RunView[]): string {
  if (runs.length === 0) return 'no runs yet: start one with `steward run <pipeline>`';
  const rows = runs.map((r) => [
    `#${r.number}`,
    r.pipeline,
    stateLabel(r.state),
    r.requestedBy,
    time(r.createdAt),
  ]);
  return table([['RUN', 'PIPELINE', 'STATE', 'BY', 'CREATED'], ...rows]);
}

export function formatModels(models: ModelView[]): string {
  if (models.length === 0) return 'no model versions yet: a run registers one when it passes evaluation';
  const headline = (m: ModelView) =>
    ['roc_auc', 'accuracy', 'rmse', 'r2']
      .filter((k) => typeof m.metrics[k] === 'number')
      .map((k) => `${k} ${(m.metrics[k] as number).toFixed(3)}`)
      .join(', ');
  const serving = (m: ModelView) =>
    m.serving === 'shadow' ? 'shadow' : m.serving ? `${m.serving} ${m.traffic}%` : '';
  const rows = models.map((m) => [
    `${m.pipeline} v${m.version}`,
    serving(m),
    m.modelType,
    headline(m),
    `#${m.run}`,
    m.datasetHash.slice(0, 12),
    time(m.createdAt),
  ]);
  return table([['MODEL', 'SERVING', 'TYPE', 'METRICS', 'RUN', 'DATASET', 'CREATED'], ...rows]);
}

/** `steward history`: the production alias's changes, newest first. */
export function formatHistory(pipeline: string, history: HistoryEntry[]): string {
  if (history.length === 0) return `${pipeline} has no deployment history yet`;
  const serving = (e: HistoryEntry) =>
    e.strategy === 'canary'
      ? `v${e.version} + v${e.candidate} canary ${e.canaryPercent}%`
      : e.strategy === 'shadow'
        ? `v${e.version} + v${e.candidate} shadow`
        : `v${e.version}`;
  const rows = history.map((e) => [
    time(e.from),
    e.until ? time(e.until) : 'now',
    `${e.action}${e.undoneBy ? ' (undone)' : ''}`,
    serving(e),
    e.replaced === null ? '-' : `v${e.replaced}`,
    e.run === null ? '-' : `#${e.run}`,
    e.actor,
    e.approvedBy.join(', ') || '-',
  ]);
  return table([['FROM', 'UNTIL', 'ACTION', 'SERVING', 'REPLACED', 'RUN', 'BY', 'APPROVED BY'], ...rows]);
}

/** "U02 via local" when an admin acted for someone. */
const who = (actor: string, via: string | null | undefined) => (via ? `${actor} via ${via}` : actor);

/** `steward show`: the run, the evidence for a decision, the timeline and the stage attempts. */
export function formatDetail({ run, timeline, attempts }: RunDetail): string {
  const lines = [
    `#${run.number} ${run.pipeline} (${run.kind}): ${stateLabel(run.state)}`,
    `requested by ${run.requestedBy} at ${time(run.createdAt)}${Object.keys(run.params).length ? `, params ${JSON.stringify(run.params)}` : ''}`,
  ];
  if (run.deadline && run.state === 'awaitingApproval')
    lines.push(`approval expires at ${time(run.deadline)}`);
  if (run.approvals.length)
    lines.push(`approved by ${run.approvals.map((a) => `${who(a.by, a.via)} (${time(a.at)})`).join(', ')}`);
  if (run.rejection)
    lines.push(
      `rejected by ${who(run.rejection.by, run.rejection.via)}${run.rejection.reason ? `: ${run.rejection.reason}` : ''}`,
    );
  if (run.error) lines.push(`error in ${run.error.stage ?? 'run'}: ${run.error.message}`);
  lines.push(...evidence(run));
  lines.push('', 'Timeline:');
  lines.push(
    table([
      ['SEQ', 'AT', 'ACTOR', 'EVENT', 'STATE', 'WHY'],
      ...timeline.map((e) => [
        String(e.seq),
        time(e.at),
        who(e.actor, e.via),
        describeEvent(e),
        e.from === e.to ? (e.to ?? '') : `${e.from ?? ''} → ${e.to}`,
        e.reason ?? '',
      ]),
    ]),
  );
  if (attempts.length) {
    lines.push('', 'Stage attempts:');
    lines.push(
      table([
        ['STAGE', 'ATTEMPT', 'STATUS', 'WORKER', 'ERROR'],
        ...attempts.map((a) => [a.stage, String(a.attempt), a.status, a.worker ?? '', a.error ?? '']),
      ]),
    );
  }
  return lines.join('\n');
}

/** The sections an approver reads: dataset, data checks, metrics, production. Empty before the stages ran. */
function evidence(run: RunView): string[] {
  const lines: string[] = [];
  const ingest = readIngest(run.summaries.ingest);
  if (ingest) lines.push('', ...datasetLines(ingest));
  const checks = readChecks(run.summaries.checks);
  if (checks) lines.push('', ...checkLines(checks));
  const evaluate = readEvaluate(run.summaries.evaluate);
  if (evaluate) lines.push('', ...metricLines(evaluate), '', ...productionLines(evaluate));
  return lines;
}

function datasetLines(ingest: IngestSummary): string[] {
  const size =
    ingest.rows === undefined
      ? 'size unknown'
      : `${formatCount(ingest.rows)} rows${ingest.columns === undefined ? '' : ` × ${formatCount(ingest.columns)} columns`}`;
  const pii = ingest.piiRemoved ? `, ${formatCount(ingest.piiRemoved)} PII columns removed` : '';
  return [`Dataset: ${size}${pii}`, `  hash ${ingest.dataset ?? 'not recorded'}`];
}

function checkLines(checks: ChecksSummary): string[] {
  const { passed, failed } = checkCounts(checks);
  const head = `Data checks: ${formatCount(passed)} passed, ${formatCount(failed)} failed`;
  if (checks.results.length === 0) return [head];
  return [
    head,
    indent(
      table([
        ['CHECK', 'COLUMN', 'RESULT', 'OBSERVED'],
        ...checks.results.map((r) => [r.check, r.column ?? '', r.passed ? 'pass' : 'FAIL', r.observed ?? '']),
      ]),
    ),
  ];
}

function metricLines(evaluate: EvaluateSummary): string[] {
  const thresholds = new Map(evaluate.thresholds.map((t) => [t.metric, t]));
  const names = orderMetrics([...Object.keys(evaluate.metrics), ...thresholds.keys()]);
  const holdout =
    evaluate.holdoutRows === undefined ? '' : ` (holdout of ${formatCount(evaluate.holdoutRows)} rows)`;
  const met = evaluate.thresholds.filter((t) => t.passed).length;
  const summary = evaluate.thresholds.length
    ? `; ${met} of ${evaluate.thresholds.length} thresholds met`
    : '';
  const version = evaluate.version === undefined ? '' : `, registered as v${evaluate.version}`;
  if (names.length === 0) return [`Metrics: none recorded${version}`];
  const rows = names.map((name) => {
    const t = thresholds.get(name);
    const value = evaluate.metrics[name] ?? t?.value ?? undefined;
    if (!t) return [name, formatMetric(value), '', ''];
    const limit = `${lowerIsBetter(name) ? '≤' : '≥'} ${formatMetric(t.threshold)}`;
    const result = value === undefined ? 'FAIL (not measured)' : t.passed ? 'pass' : 'FAIL';
    return [name, formatMetric(value), limit, result];
  });
  return [
    `Metrics${holdout}${summary}${version}`,
    indent(table([['METRIC', 'VALUE', 'THRESHOLD', 'RESULT'], ...rows])),
  ];
}

function productionLines(evaluate: EvaluateSummary): string[] {
  const champion = evaluate.champion;
  if (!champion) return ['Production: no model in production yet; this would be the first.'];
  const title = `Production: v${champion.version ?? '?'}`;
  if (!champion.metrics)
    return [`${title} could not be compared${champion.note ? `: ${champion.note}` : ''}`];
  const rows = compareMetrics(evaluate).map((m) => [
    m.name,
    formatMetric(m.value),
    formatMetric(m.production),
    formatDelta(m.delta),
    verdict(m.name, m.delta),
  ]);
  const lines = [
    `${title} on the same holdout`,
    indent(table([['METRIC', 'THIS RUN', 'PRODUCTION', 'DELTA', ''], ...rows])),
  ];
  const c = evaluate.comparison;
  if (c) {
    lines.push(
      `  gate: ${c.metric} ${formatMetric(c.challenger)} vs ${formatMetric(c.champion)} (${formatDelta(c.delta)} ${verdict(c.metric, c.delta)})`.trimEnd(),
    );
  }
  return lines;
}

function describeEvent(e: RunDetail['timeline'][number]): string {
  const d = e.detail as { stage?: string; attempt?: number; message?: string; error?: string };
  if (!d.stage) return e.type;
  const error = d.error?.split('\n')[0];
  const text = `${e.type} ${d.stage}#${d.attempt}${d.message ? ` ${d.message}` : ''}${error ? `: ${error}` : ''}`;
  return text.length > 72 ? `${text.slice(0, 71)}…` : text;
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

const CREDENTIALS: Record<WhoAmI['credential'], string> = {
  token: 'a personal API token',
  'api-token': 'STEWARD_API_TOKEN',
  'local-secret': "the data dir's secret",
  session: 'a browser session',
  database: 'the database credentials',
  slack: 'Slack',
};

/** `steward whoami`. */
export function formatWhoAmI({ user, credential, grants }: WhoAmI): string {
  const roles = grants.length
    ? grants.map((g) => `${g.role} ${g.pipeline === '*' ? 'everywhere' : `on ${g.pipeline}`}`).join(', ')
    : 'no role yet (an admin grants one: `steward grant <user> <role>`)';
  return `${user}, through ${CREDENTIALS[credential]}: ${roles}`;
}

/** `steward roles`. */
export function formatGrants(grants: GrantView[]): string {
  if (!grants.length) return 'No roles granted yet.';
  return table([
    ['USER', 'PIPELINE', 'ROLE', 'GRANTED BY', 'SINCE'],
    ...grants.map((g) => [
      g.user,
      g.pipeline === '*' ? '(all)' : g.pipeline,
      g.role,
      g.grantedBy,
      time(g.createdAt),
    ]),
  ]);
}

/** `steward token list`: never the tokens themselves, which are not stored. */
export function formatTokens(tokens: TokenView[]): string {
  if (!tokens.length) return 'No tokens yet: `steward token create <user>` makes one.';
  return table([
    ['ID', 'USER', 'NAME', 'SCOPE', 'CREATED BY', 'CREATED', 'LAST USED', 'REVOKED'],
    ...tokens.map((t) => [
      t.id,
      t.user,
      t.name,
      t.scope,
      t.createdBy,
      time(t.createdAt),
      time(t.lastUsedAt) || 'never',
      time(t.revokedAt),
    ]),
  ]);
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
