import fs from 'node:fs/promises';
import path from 'node:path';
import type { App } from '../app.ts';
import { StewardError } from '../errors.ts';
import { readCsvFile } from '../stages/data/csv.ts';
import { formatDriftReport } from '../stages/drift/format.ts';
import { compareTables } from '../stages/drift/index.ts';
import type { Access } from '../workflows/access.ts';
import type { AlertView, ReportView } from '../workflows/monitoring.ts';

type DriftIo = {
  json: boolean;
  columns?: string;
  hours?: string;
  as: { as?: string };
  io: { out(line: string): void; err(line: string): void };
  usage(message: string): number;
  fail(error: unknown): number;
  withAccess(fn: (access: Access, app: App | undefined) => Promise<number>): Promise<number>;
};

export const DRIFT_USAGE = `steward drift <reference.csv> <current.csv>   compare two files   [--columns a,b] [--json]
  steward drift <pipeline>               check a deployed pipeline now and store the report   [--json]
  steward drift history <pipeline>       its stored reports, newest first   [--json]
  steward drift alerts <pipeline>        its drift alerts   [--json]
  steward drift snooze <alert>           silence an alert's pages   [--hours 24]
  steward drift retrain <alert>          retrain the pipeline on fresh data, as [Retrain now] does`;

/** `steward drift …`: two files compared directly, or a deployed pipeline's monitoring. */
export async function driftCommand(args: string[], ctx: DriftIo): Promise<number> {
  const { io, json } = ctx;
  const [first, second] = args;
  if (!first) return ctx.usage(`drift needs two CSV files or a pipeline:\n  ${DRIFT_USAGE}`);
  if (first === 'history' || first === 'alerts') {
    if (!second) return ctx.usage(`drift ${first} needs a pipeline: steward drift ${first} churn`);
    return ctx.withAccess(async (access) => {
      if (first === 'history') {
        const history = await access.driftHistory(second);
        io.out(json ? JSON.stringify(history, null, 2) : formatReportHistory(second, history));
      } else {
        const alerts = await access.alerts(second);
        io.out(json ? JSON.stringify(alerts, null, 2) : formatAlerts(second, alerts));
      }
      return 0;
    });
  }
  if (first === 'snooze' || first === 'retrain') {
    const alert = Number(second?.replace(/^#/, ''));
    if (!Number.isInteger(alert) || alert < 1) {
      return ctx.usage(`drift ${first} needs an alert number: steward drift ${first} 3`);
    }
    return ctx.withAccess(async (access) => {
      if (first === 'snooze') {
        const hours = ctx.hours === undefined ? undefined : Number(ctx.hours);
        if (hours !== undefined && !(hours > 0)) return ctx.usage('--hours is a positive number of hours');
        const { alert: view, applied } = await access.snooze({
          alert,
          ...(hours ? { hours } : {}),
          ...ctx.as,
        });
        io.out(
          json
            ? JSON.stringify({ alert: view, applied })
            : applied
              ? `drift alert #${alert} snoozed until ${view.snoozedUntil}`
              : `drift alert #${alert} is ${view.status === 'resolved' ? 'resolved' : `snoozed until ${view.snoozedUntil}`} already`,
        );
      } else {
        const { run, created } = await access.retrain({ alert, ...ctx.as });
        io.out(
          json
            ? JSON.stringify({ run, created })
            : `#${run.number} ${run.pipeline} ${created ? 'started' : 'was started already'} by drift alert #${alert}`,
        );
      }
      return 0;
    });
  }
  if (second !== undefined) return compareFiles(first, second, ctx);
  return ctx.withAccess(async (access) => {
    const report = await access.checkDrift({ pipeline: first, ...ctx.as });
    io.out(json ? JSON.stringify(report, null, 2) : formatStoredReport(report));
    return report.datasetDrift ? 1 : 0;
  });
}

/**
 * Two CSV files, compared as a check compares training data with live data. The current
 * file is read with the reference's numeric columns, so a column both files have is
 * compared alike. Exits 1 when the dataset drifts, so a script can act on it.
 */
async function compareFiles(referencePath: string, currentPath: string, ctx: DriftIo): Promise<number> {
  try {
    for (const file of [referencePath, currentPath]) {
      const stat = await fs.stat(file).catch(() => null);
      if (!stat?.isFile()) {
        throw new StewardError(
          'BAD_REQUEST',
          `${file} is not a file; \`steward drift\` compares two CSV files, or checks one deployed pipeline`,
        );
      }
    }
    // The person names these files on their own machine: no data roots apply, only the
    // safe open (a regular file, no symlink swapped in), within the file's own directory.
    const read = (file: string, numeric: string[]) =>
      readCsvFile(file, { numeric, source: path.basename(file), roots: [path.dirname(path.resolve(file))] });
    const reference = await read(referencePath, []);
    const current = await read(
      currentPath,
      reference.columns.filter((c) => c.type === 'numeric').map((c) => c.name),
    );
    const columns = ctx.columns
      ?.split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (columns) {
      const missing = columns.filter(
        (c) => !reference.columns.some((r) => r.name === c) || !current.columns.some((r) => r.name === c),
      );
      if (missing.length) {
        throw new StewardError(
          'BAD_REQUEST',
          `--columns names columns not in both files: ${missing.join(', ')}`,
        );
      }
    }
    const report = compareTables(reference, current, columns ? { columns } : {});
    ctx.io.out(ctx.json ? JSON.stringify(report, null, 2) : formatDriftReport(report));
    return report.datasetDrift ? 1 : 0;
  } catch (error) {
    return ctx.fail(error);
  }
}

function formatStoredReport(view: ReportView): string {
  const { report } = view;
  const lines = [
    `${view.pipeline} v${view.version}: ${view.currentRows} ${view.current === 'source' ? 'source rows' : 'logged predictions'} against ${view.referenceRows} training rows (${view.createdAt})`,
    formatDriftReport(report.drift),
  ];
  if (report.prediction) {
    const p = report.prediction;
    const number = (x: number | null | undefined) => (x == null ? 'n/a' : Number(x.toPrecision(3)));
    lines.push(
      `prediction: ${p.test} ${number(p.score)}${p.pValue != null ? ` (p ${number(p.pValue)})` : ''} → ${p.drifted ? 'drifted' : 'ok'}`,
    );
  }
  for (const m of report.performance?.metrics ?? []) {
    lines.push(
      `live ${m.name} ${m.live} on ${report.performance?.labelled} labelled rows (training ${m.training ?? 'n/a'})`,
    );
  }
  return lines.join('\n');
}

function formatReportHistory(pipeline: string, history: Awaited<ReturnType<Access['driftHistory']>>): string {
  if (history.length === 0) return `${pipeline} has no drift reports yet`;
  const when = (d: Date | string | null) =>
    d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) : '';
  return [
    'CHECKED               VERSION  TRIGGER   ROWS     SHARE  DRIFTED',
    ...history.map(
      (r) =>
        `${when(r.createdAt).padEnd(21)} v${String(r.version).padEnd(7)} ${r.trigger.padEnd(9)} ${String(r.currentRows).padEnd(8)} ${`${Math.round(Number(r.share ?? 0) * 100)}%`.padEnd(6)} ${r.datasetDrift ? 'dataset: ' : ''}${r.driftedColumns.join(', ') || '-'}`,
    ),
  ].join('\n');
}

function formatAlerts(pipeline: string, alerts: AlertView[]): string {
  if (alerts.length === 0) return `${pipeline} has had no drift alerts`;
  return [
    'ALERT  STATUS    OPENED                FEATURES',
    ...alerts.map((a) => {
      const status =
        a.status === 'firing' && a.snoozedUntil && Date.parse(a.snoozedUntil) > Date.now()
          ? 'snoozed'
          : a.status;
      const extra = a.retrainRun ? `  (retrain #${a.retrainRun})` : '';
      return `#${String(a.number).padEnd(5)} ${status.padEnd(9)} ${a.createdAt.replace('T', ' ').slice(0, 19).padEnd(21)} ${Object.keys(a.notified).join(', ')}${extra}`;
    }),
  ].join('\n');
}
