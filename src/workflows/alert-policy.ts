/**
 * When a drift check pages someone, with the manners of Prometheus Alertmanager: one page
 * when drift starts, no repeat within `repeat_after` unless it gets worse, silence while
 * snoozed, and a "resolved" reply when it stops. Pure: the check decides, the caller writes.
 */

/**
 * What one check found: whether it counts as drift, the drifted columns' scores, and the
 * columns it could not judge (`not_enough_data`: too few values in the window).
 */
export type Finding = { drifting: boolean; columns: Record<string, number>; unjudged?: string[] };

/** The firing alert of a pipeline, as the last page left it. */
export type OpenAlert = {
  /** The drifted columns and their scores when the last page went out. */
  notified: Record<string, number>;
  notifiedAt: Date;
  snoozedUntil: Date | null;
};

export type AlertPolicy = {
  /** `column`: any monitored column drifting pages; `dataset`: only dataset drift does. */
  alertOn: 'column' | 'dataset';
  repeatAfterMs: number;
};

export type Decision =
  | { action: 'fire' }
  | { action: 'repeat' }
  | { action: 'worsen'; newly: string[]; grown: string[] }
  | { action: 'resolve' }
  /** Still drifting, nothing new to say (`cooldown`), or silenced (`snoozed`). */
  | { action: 'quiet'; why: 'cooldown' | 'snoozed' | 'no data' }
  | { action: 'none' };

/** A drifted column's statistic must grow by more than this share to count as worse. */
export const WORSE_GROWTH = 0.25;

/** What a report means for alerting: drifting per `alertOn`, and the drifted columns. */
export function findingOf(
  report: {
    datasetDrift: boolean;
    columns: readonly { column: string; drifted: boolean; score: number | null; status?: string }[];
  },
  alertOn: AlertPolicy['alertOn'],
): Finding {
  const columns: Record<string, number> = {};
  for (const c of report.columns) if (c.drifted && c.score !== null) columns[c.column] = c.score;
  const unjudged = report.columns.filter((c) => c.status === 'not_enough_data').map((c) => c.column);
  const drifting = alertOn === 'dataset' ? report.datasetDrift : Object.keys(columns).length > 0;
  return { drifting, columns, unjudged };
}

/**
 * Worse than the last page: a column drifts that did not, or a drifted column's statistic
 * grew by more than a quarter. Judged against the last page, not the last check, so that a
 * slow creep pages once it has crept far enough.
 */
export function worsening(notified: Record<string, number>, columns: Record<string, number>) {
  const newly: string[] = [];
  const grown: string[] = [];
  for (const [column, score] of Object.entries(columns)) {
    const before = notified[column];
    if (before === undefined) newly.push(column);
    else if (Math.abs(score) > Math.abs(before) * (1 + WORSE_GROWTH)) grown.push(column);
  }
  return { newly, grown };
}

export function decide(open: OpenAlert | null, finding: Finding, now: Date, policy: AlertPolicy): Decision {
  if (!open) return finding.drifting ? { action: 'fire' } : { action: 'none' };
  if (!finding.drifting) {
    // A drifted column that went silent (no values in the window: a broken upstream, no
    // traffic) is not a column that recovered: say nothing rather than "resolved".
    const unjudged = new Set(finding.unjudged ?? []);
    if (Object.keys(open.notified).some((column) => unjudged.has(column)))
      return { action: 'quiet', why: 'no data' };
    return { action: 'resolve' };
  }
  if (open.snoozedUntil && open.snoozedUntil > now) return { action: 'quiet', why: 'snoozed' };
  const { newly, grown } = worsening(open.notified, finding.columns);
  if (newly.length > 0 || grown.length > 0) return { action: 'worsen', newly, grown };
  if (now.getTime() - open.notifiedAt.getTime() >= policy.repeatAfterMs) return { action: 'repeat' };
  return { action: 'quiet', why: 'cooldown' };
}
