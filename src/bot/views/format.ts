/**
 * Small text formatters shared by the views. Everything here is pure and total: odd input
 * (NaN, an unparseable date, an empty id) yields readable text, never an exception, because
 * a view that throws leaves a run's message stale in chat.
 */
import { isLowerBetter, METRIC } from '../../stages/evaluate/score.ts';
import { truncate } from './limits.ts';

/**
 * Escapes the three characters mrkdwn treats as markup (`<@U1>`, `<url|label>`, `&amp;`).
 * Applied to everything people or data wrote (reasons, error reports, column names), so
 * an error mentioning `<pipeline>` neither vanishes nor becomes a link.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Slack user and bot ids (`U024BE7LH`, `W0123`); anything else is a local or system id. */
const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/**
 * A user as mrkdwn: a Slack mention for Slack ids (Slack shows the name), the id itself
 * for local console users and `steward` for the system actor (deadlines, workers).
 */
export function mention(user: string): string {
  if (SLACK_USER.test(user)) return `<@${user}>`;
  if (user === 'steward') return 'Steward';
  return user ? `*${escapeText(truncate(user, 80))}*` : 'someone';
}

/** People as `A`, `A and B`, `A, B and C`. */
export function people(users: readonly string[]): string {
  const named = users.map(mention);
  if (named.length <= 1) return named[0] ?? 'nobody';
  return `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
}

/** ` at 2026-01-02 14:03 UTC`, or nothing when the time is not known. */
export function atTime(iso: string | null | undefined): string {
  return iso ? ` at ${formatTime(iso)}` : '';
}

/**
 * An ISO time as `2026-01-02 14:03 UTC`. Plain text rather than Slack's `<!date^…>`
 * token: the local console renders the same blocks and knows nothing of that syntax.
 */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return 'an unknown time';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeText(truncate(iso, 40));
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A count with thousands separators: `12,345`. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n);
}

/** `1 row`, `2 rows`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/** A metric value: three decimals, fewer for large errors (RMSE in dollars), never `NaN`. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toLocaleString('en-US', { maximumFractionDigits: 1 });
  if (abs !== 0 && abs < 0.001) return value.toExponential(2);
  return value.toFixed(3);
}

/** A signed difference: `+0.022`, `−0.013` (a real minus sign, so columns line up). */
export function formatDelta(delta: number | null | undefined): string {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) return 'n/a';
  const body = formatMetric(Math.abs(delta));
  if (delta === 0) return `±${body}`;
  return delta > 0 ? `+${body}` : `−${body}`;
}

/** True when a smaller value of `metric` is better (losses and errors); unknown metrics are not. */
export function lowerIsBetter(metric: string): boolean {
  const known = METRIC.safeParse(metric);
  return known.success && isLowerBetter(known.data);
}

/**
 * Whether `delta` (challenger minus production) is an improvement for `metric`, as the
 * arrow people read first: `▲ better`, `▼ worse`, `= same`. Empty for a metric Steward
 * does not know, whose direction it cannot tell.
 */
export function verdict(metric: string, delta: number | null | undefined): string {
  if (delta === null || delta === undefined || !Number.isFinite(delta)) return '';
  const known = METRIC.safeParse(metric);
  if (!known.success) return '';
  if (delta === 0) return '= same';
  return delta > 0 !== isLowerBetter(known.data) ? '▲ better' : '▼ worse';
}

/**
 * The order metrics are shown in: the headline classification metrics, then regression,
 * then anything else alphabetically (a newer stage may add metrics this list lacks).
 */
const METRIC_ORDER = ['roc_auc', 'accuracy', 'precision', 'recall', 'f1', 'log_loss', 'rmse', 'mae', 'r2'];

export function orderMetrics(names: Iterable<string>): string[] {
  const rank = (name: string) => {
    const i = METRIC_ORDER.indexOf(name);
    return i === -1 ? METRIC_ORDER.length : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** A 10-cell text progress bar: `▓▓▓▓░░░░░░ 42%`; null when the fraction is unknown or odd. */
export function progressBar(fraction: number | null | undefined, width = 10): string | null {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return null;
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `${'▓'.repeat(filled)}${'░'.repeat(width - filled)} ${Math.round(f * 100)}%`;
}

/** The first non-empty line of `text`, cut to `max`: how an error is named in a checklist. */
export function firstLine(text: string, max = 200): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return truncate(line.trim(), max);
}

/** A content hash as people compare it: the first 12 hex digits. */
export function shortHash(hash: string): string {
  return hash.slice(0, 12);
}

/**
 * `text` as a mrkdwn code block of at most `max` characters, the closing fence kept even
 * when the text is cut. Triple backticks inside would end the block early, so they are
 * broken up.
 */
export function codeBlock(text: string, max: number): string {
  const fence = '```';
  const body = text.replace(/```/g, "'''").replace(/\s+$/, '') || ' ';
  return `${fence}\n${truncate(body, Math.max(1, max - 2 * fence.length - 2))}\n${fence}`;
}

/**
 * Rows as a fixed-width table for a code block (Slack has no table block every client
 * renders). Numbers are right-aligned; rows that do not fit `max` are replaced with a
 * `… N more` line, so the table is cut between rows rather than mid-row.
 */
export function textTable(
  head: readonly string[],
  rows: readonly (readonly string[])[],
  max: number,
): string {
  const cells = [head, ...rows].map((row) => row.map((cell) => truncate(cell, 28)));
  const widths = head.map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const budget = max - 8 - 20;
  const lines: string[] = [];
  let used = 0;
  for (const [i, row] of cells.entries()) {
    const next = line(row);
    if (used + next.length + 1 > budget) {
      lines.push(`… ${cells.length - i} more`);
      break;
    }
    lines.push(next);
    used += next.length + 1;
  }
  return codeBlock(lines.join('\n'), max);
}

/** `key=value` pairs, sorted, values as compact JSON when not plain: `epochs=20 hidden=[32,16]`. */
export function formatParams(params: Readonly<Record<string, unknown>>, max = 300, separator = ' '): string {
  const text = Object.keys(params)
    .sort()
    .map((key) => {
      const value = params[key];
      const shown = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
      return `${key}=${shown}`;
    })
    .join(separator);
  return truncate(text, max);
}
