import { and, desc, eq, isNotNull, ne, sql } from 'drizzle-orm';
import { aliasOf } from '../db/alias-repo.ts';
import type { Database } from '../db/client.ts';
import {
  type AlertEventRow,
  alertByNumber,
  alertEventsOf,
  alertsOf,
  appendAlertEvent,
  type DriftAlertRow,
  type DriftReportRow,
  insertReport,
  laterTickChecked,
  latestReport,
  lockAlert,
  lockFiringAlert,
  reportById,
  reportHistory,
  reportOfTick,
} from '../db/drift-repo.ts';
import { driftAlerts, modelVersions, predictions, runs } from '../db/schema.ts';
import { StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PipelineCatalog } from '../stages/catalog.ts';
import { checkSourceRoots } from '../stages/data/data-roots.ts';
import { dropColumns, type Table } from '../stages/data/table.ts';
import type { ColumnDrift, DriftOptions, DriftReport } from '../stages/drift/index.ts';
import { accuracy, mae, rmse, rocAuc } from '../stages/ml/metrics.ts';
import { readSource } from '../stages/pipeline/ingest.ts';
import { type LoadedModel, loadModelVersion } from '../stages/serve/loaded-model.ts';
import { scoreRows } from '../stages/serve/predict.ts';
import { type MonitoringSpec, PipelineSpec } from '../stages/spec.ts';
import { loadDataset } from '../stages/store.ts';
import { decide, findingOf } from './alert-policy.ts';
import type { Clock } from './clock.ts';
import { createDriftComparer, type DriftComparer } from './drift-thread.ts';
import { hasRole } from './roles.ts';
import { isFinal, roleOn, SYSTEM_ACTOR } from './run-engine.ts';
import type { RunService } from './run-service.ts';
import type { RunCause, RunView } from './run-view.ts';

/** A live metric beside the training (holdout) one, from the labelled rows of the window. */
export type LiveMetric = { name: string; live: number; training: number | null };
export type Performance = { labelled: number; metrics: LiveMetric[] };

/** What one check stored: the feature drift, the prediction drift, and performance where labels exist. */
export type MonitorReport = {
  drift: DriftReport;
  /** The served outputs against the model's own outputs on the training data. */
  prediction: ColumnDrift | null;
  performance: Performance | null;
  /** The thresholds and window the check used, so a stored report explains itself. */
  settings: {
    window: number;
    current: MonitoringSpec['current'];
    alertOn: MonitoringSpec['alert_on'];
  } & Required<Pick<DriftOptions, 'threshold' | 'pValue' | 'share'>>;
};

export type ReportView = Omit<DriftReportRow, 'report' | 'tickAt' | 'createdAt'> & {
  tickAt: string | null;
  createdAt: string;
  report: MonitorReport;
};

export type AlertView = {
  id: string;
  number: number;
  pipeline: string;
  version: number;
  channel: string;
  status: 'firing' | 'resolved';
  notified: Record<string, number>;
  notifiedAt: string;
  snoozedUntil: string | null;
  snoozedBy: string | null;
  retrainRun: number | null;
  /** The retrain run's state: a run that ended without deploying may be retried from the alert. */
  retrainState: string | null;
  resolvedAt: string | null;
  createdAt: string;
  lastReport: string;
};

export type CheckRequest = {
  pipeline: string;
  trigger: 'schedule' | 'manual';
  /** A scheduled check's tick, as scheduled. */
  tickAt?: Date;
  requestedBy?: string;
};

export type AlertAction = 'fire' | 'repeat' | 'worsen' | 'resolve';

export type CheckOutcome =
  | { status: 'checked'; report: ReportView; alert?: { number: number; action: AlertAction } }
  /** The tick was checked already, by this or another process. */
  | { status: 'duplicate' };

export type Monitoring = {
  /**
   * Compares the production version's training data with the last `window` logged
   * predictions (or the source re-read) and stores the report. A scheduled check also
   * decides the pipeline's alert, in the same transaction as its report.
   */
  check(request: CheckRequest): Promise<CheckOutcome>;
  latest(pipeline: string): Promise<ReportView | null>;
  report(id: string): Promise<ReportView | null>;
  history(pipeline: string, limit?: number): Promise<Awaited<ReturnType<typeof reportHistory>>>;
  alert(number: number): Promise<{ alert: AlertView; events: AlertEventRow[]; report: ReportView | null }>;
  alerts(pipeline: string, limit?: number): Promise<AlertView[]>;
  /** Silences an alert's pages for `ms` (operator or above, checked now). */
  snooze(request: { alert: number; by: string; ms: number; via?: string }): Promise<{
    alert: AlertView;
    applied: boolean;
  }>;
  /**
   * Starts a run of the alert's pipeline on fresh data (operator or above, checked now).
   * Once per alert: a second click answers with the run the first started.
   */
  retrain(request: { alert: number; by: string; via?: string; credential?: string }): Promise<{
    run: RunView;
    created: boolean;
  }>;
  /** Ends the comparison thread. */
  close(): Promise<void>;
};

export type MonitoringDeps = {
  database: Database;
  catalog: PipelineCatalog;
  clock: Clock;
  log: Logger;
  runs: Pick<RunService, 'start'>;
  dataRoots?: readonly string[];
  metrics?: Pick<Metrics, 'alerts'>;
  /** Where reports are computed. @default a worker thread of its own (`createDriftComparer`) */
  comparer?: DriftComparer;
};

/** Labelled rows a live metric needs before it is worth showing. */
const MIN_LABELLED = 20;
/** Reference rows scored for prediction drift (the model's outputs on its training data). */
const MAX_REFERENCE_PREDICTIONS = 20_000;

export function createMonitoring(deps: MonitoringDeps): Monitoring {
  const { database, catalog, clock, log } = deps;
  const db = database.db;
  const comparer = deps.comparer ?? createDriftComparer();
  /** The model's outputs on its training data, per loaded version: the reference for prediction drift. */
  const referenceOutputs = new Map<string, Table>();

  /** The spec monitoring follows: the catalog's, or the production run's copy when the file is gone. */
  async function specOf(pipeline: string, runId: string): Promise<PipelineSpec> {
    try {
      return await catalog.get(pipeline);
    } catch (error) {
      const [row] = await db.select({ spec: runs.spec }).from(runs).where(eq(runs.id, runId));
      if (!row) throw error;
      log.warn('pipeline spec not in the catalog; monitoring with the production run’s copy', {
        pipeline,
        error: (error as Error).message,
      });
      return PipelineSpec.parse(row.spec);
    }
  }

  async function compute(pipeline: string) {
    const alias = await aliasOf(db, pipeline);
    if (!alias) {
      throw new StewardError(
        'NOT_FOUND',
        `${pipeline} has no model in production, so there is nothing to monitor; deploy one first (\`steward deploy ${pipeline} v<N>\`)`,
      );
    }
    const spec = await specOf(pipeline, alias.runId);
    const monitoring = spec.monitoring;
    const [version] = await db
      .select({ datasetHash: modelVersions.datasetHash, metrics: modelVersions.metrics })
      .from(modelVersions)
      .where(and(eq(modelVersions.pipeline, pipeline), eq(modelVersions.version, alias.version)));
    if (!version) throw new Error(`${pipeline} v${alias.version} is in production but not registered`);
    const loaded = await loadModelVersion(db, pipeline, alias.version);
    const reference = await loadDataset(db, version.datasetHash);
    const columns = monitoredColumns(loaded, reference, spec);

    let current: Table;
    let outputs: unknown[] | undefined;
    if (monitoring.current === 'source') {
      await checkSourceRoots(spec.source, deps.dataRoots);
      const read = await readSource(spec, {});
      // As ingest does: PII columns go no further than the read.
      current = dropColumns(
        read,
        spec.features.pii.filter((c) => hasColumn(read, c)),
      );
    } else {
      const rows = await db
        .select({
          features: predictions.features,
          prediction: predictions.prediction,
          version: predictions.version,
          role: predictions.role,
        })
        .from(predictions)
        .where(and(eq(predictions.pipeline, pipeline), ne(predictions.role, 'shadow')))
        .orderBy(desc(predictions.createdAt), desc(predictions.id))
        .limit(monitoring.window);
      // Features are the world's, whichever version answered; outputs are this version's own.
      current = tableLike(
        reference,
        columns,
        rows.map((r) => r.features as Record<string, unknown>),
      );
      outputs = rows
        .filter((r) => r.version === alias.version && r.role === 'production')
        .map((r) => r.prediction);
    }
    // The newest labelled answers of this version, however far back: labels arrive late.
    const labelled = (
      await db
        .select({
          prediction: predictions.prediction,
          // As text: drizzle would turn a label such as "1" into the number 1.
          label: sql<string>`${predictions.label}::text`,
        })
        .from(predictions)
        .where(
          and(
            eq(predictions.pipeline, pipeline),
            eq(predictions.version, alias.version),
            eq(predictions.role, 'production'),
            isNotNull(predictions.label),
          ),
        )
        .orderBy(desc(predictions.createdAt), desc(predictions.id))
        .limit(monitoring.window)
    ).map((r) => ({ prediction: r.prediction, label: JSON.parse(r.label) as unknown }));
    const options: DriftOptions = {
      columns,
      tests: monitoring.drift.tests,
      threshold: monitoring.drift.threshold,
      pValue: monitoring.drift.p_value,
      share: monitoring.drift.share,
      psiBins: monitoring.drift.bins,
      minRows: monitoring.drift.min_rows,
    };
    const drift = await comparer.compare(reference, current, options);
    const prediction = await predictionDrift(loaded, reference, current, outputs, options);
    const report: MonitorReport = {
      drift,
      prediction,
      performance: livePerformance(loaded, labelled, version.metrics as Record<string, unknown>),
      settings: {
        window: monitoring.window,
        current: monitoring.current,
        alertOn: monitoring.alert_on,
        threshold: monitoring.drift.threshold,
        pValue: monitoring.drift.p_value,
        share: monitoring.drift.share,
      },
    };
    return { alias, spec, report, referenceHash: version.datasetHash };
  }

  /** The model's outputs on its training data, as a one-column table (cached per version). */
  function referencePredictions(loaded: LoadedModel, reference: Table): Table {
    const key = `${loaded.pipeline}@${loaded.version}`;
    const cached = referenceOutputs.get(key);
    if (cached) return cached;
    const rows = recordsOf(reference, loaded.inputs, MAX_REFERENCE_PREDICTIONS);
    const outcomes = scoreRows(loaded, rows);
    const table = outputTable(
      loaded,
      outcomes.map((o) => (o.ok ? o.prediction : null)),
    );
    if (referenceOutputs.size >= 8) referenceOutputs.delete(referenceOutputs.keys().next().value as string);
    referenceOutputs.set(key, table);
    return table;
  }

  async function predictionDrift(
    loaded: LoadedModel,
    reference: Table,
    current: Table,
    outputs: unknown[] | undefined,
    options: DriftOptions,
  ): Promise<ColumnDrift | null> {
    try {
      const served =
        outputs ??
        scoreRows(loaded, recordsOf(current, loaded.inputs, MAX_REFERENCE_PREDICTIONS)).map((o) =>
          o.ok ? o.prediction : null,
        );
      const report = await comparer.compare(
        referencePredictions(loaded, reference),
        outputTable(loaded, served),
        {
          ...options,
          columns: ['prediction'],
          tests: {},
        },
      );
      return report.columns[0] ?? null;
    } catch (error) {
      log.warn('prediction drift could not be computed', { pipeline: loaded.pipeline, error });
      return null;
    }
  }

  async function retrainFor(
    alert: DriftAlertRow,
    by: string,
    extra: { via?: string; credential?: string } = {},
  ) {
    // One retrain at a time per alert: a second click names the run the first started,
    // unless that run ended without deploying (failed, rejected, expired, cancelled).
    const attempts = (await alertEventsOf(db, alert.id)).filter((e) => e.type === 'retrain').length;
    const last = alert.retrainRun
      ? (await db.select({ state: runs.state }).from(runs).where(eq(runs.id, alert.retrainRun)))[0]
      : undefined;
    const retryable = last !== undefined && isFinal(last.state) && last.state !== 'deployed';
    const attempt = retryable ? attempts + 1 : Math.max(1, attempts);
    const report = await reportById(db, alert.lastReport);
    const spec = await catalog.get(alert.pipeline);
    const source = spec.monitoring.retrain_source;
    if (source === 'feedback' && (retryable || !alert.retrainRun)) {
      const needed = Math.max(1, spec.checks.min_rows ?? 0);
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(predictions)
        .where(
          and(
            eq(predictions.pipeline, alert.pipeline),
            isNotNull(predictions.label),
            ne(predictions.role, 'shadow'),
          ),
        );
      const labelled = Number(row?.n ?? 0);
      if (labelled < needed) {
        throw new StewardError(
          'BAD_REQUEST',
          `${alert.pipeline} has ${labelled} labelled predictions and its retrain trains on them (\`monitoring.retrain_source: feedback\`), but its checks need ${needed} rows: send labels to POST /v1/models/${alert.pipeline}/feedback, or set retrain_source: source`,
        );
      }
    }
    const cause: RunCause = {
      type: 'drift',
      alert: alert.number,
      alertId: alert.id,
      channel: alert.channel,
      features: mostDrifted(report ? (report.report as MonitorReport) : null),
      source,
    };
    const started = await deps.runs.start({
      pipeline: alert.pipeline,
      requestedBy: by,
      ...(extra.via ? { requestedVia: extra.via } : {}),
      ...(extra.credential ? { credential: extra.credential } : {}),
      requestKey: attempt === 1 ? `drift-retrain:${alert.id}` : `drift-retrain:${alert.id}:${attempt}`,
      cause,
    });
    await db.transaction(async (tx) => {
      const locked = await lockAlert(tx, alert.number);
      if (!locked || locked.retrainRun === started.run.id) return;
      await tx
        .update(driftAlerts)
        .set({ retrainRun: started.run.id, updatedAt: new Date() })
        .where(eq(driftAlerts.id, alert.id));
      await appendAlertEvent(tx, database.executorFor(tx), {
        alertId: alert.id,
        type: 'retrain',
        actor: by,
        detail: { run: started.run.number, source, ...(extra.via ? { via: extra.via } : {}) },
      });
    });
    return started;
  }

  return {
    async check(request) {
      const { pipeline, tickAt } = request;
      // A tick another process checked already: not worth computing the report again.
      if (request.trigger === 'schedule' && tickAt && (await reportOfTick(db, pipeline, tickAt))) {
        return { status: 'duplicate' };
      }
      const { alias, spec, report, referenceHash } = await compute(pipeline);
      const monitoring = spec.monitoring;
      const driftedColumns = report.drift.columns.filter((c) => c.drifted).map((c) => c.column);
      const outcome = await db.transaction(async (tx) => {
        const now = await clock.now(tx);
        const stored = await insertReport(tx, {
          pipeline,
          version: alias.version,
          trigger: request.trigger,
          tickAt: request.tickAt ?? null,
          current: monitoring.current,
          referenceHash,
          referenceRows: report.drift.referenceRows,
          currentRows: report.drift.currentRows,
          datasetDrift: report.drift.datasetDrift,
          driftedColumns,
          report,
          requestedBy: request.requestedBy ?? null,
          createdAt: now,
        });
        if (!stored) return { status: 'duplicate' } as const;
        if (request.trigger !== 'schedule') return { status: 'checked', stored } as const;
        // A tick retried after a later one was checked has nothing to say about now.
        if (tickAt && (await laterTickChecked(tx, pipeline, tickAt)))
          return { status: 'checked', stored } as const;
        const exec = database.executorFor(tx);
        const finding = findingOf(report.drift, monitoring.alert_on);
        const detail = {
          columns: finding.columns,
          datasetDrift: report.drift.datasetDrift,
          share: report.drift.share,
        };
        const resolve = async (alert: DriftAlertRow, extra: Record<string, unknown> = {}) => {
          await tx
            .update(driftAlerts)
            .set({ status: 'resolved', resolvedAt: now, lastReport: stored.id, updatedAt: now })
            .where(eq(driftAlerts.id, alert.id));
          await appendAlertEvent(tx, exec, {
            alertId: alert.id,
            type: 'resolved',
            actor: SYSTEM_ACTOR,
            reportId: stored.id,
            detail: { ...detail, ...extra },
          });
        };
        let open = await lockFiringAlert(tx, pipeline);
        if (open && open.version !== alias.version) {
          // Production changed under the alert (a deploy, a rollback): what it said was about
          // another model. It is closed, and the version now serving is judged on its own.
          await resolve(open, { replacedBy: alias.version });
          open = null;
        }
        const decision = decide(
          open && { notified: open.notified, notifiedAt: open.notifiedAt, snoozedUntil: open.snoozedUntil },
          finding,
          now,
          { alertOn: monitoring.alert_on, repeatAfterMs: monitoring.repeat_after },
        );
        if (decision.action === 'fire') {
          const [created] = await tx
            .insert(driftAlerts)
            .values({
              pipeline,
              version: alias.version,
              channel: monitoring.channel,
              status: 'firing',
              lastReport: stored.id,
              notified: finding.columns,
              notifiedAt: now,
              createdAt: now,
              updatedAt: now,
            })
            .returning();
          if (!created) throw new Error('insert into drift_alerts returned nothing');
          await appendAlertEvent(tx, exec, {
            alertId: created.id,
            type: 'fired',
            actor: SYSTEM_ACTOR,
            reportId: stored.id,
            detail,
          });
          return { status: 'checked', stored, alert: created, action: 'fire' } as const;
        }
        if (!open) return { status: 'checked', stored } as const;
        if (decision.action === 'resolve') {
          await resolve(open);
          return { status: 'checked', stored, alert: open, action: 'resolve' } as const;
        }
        if (decision.action === 'repeat' || decision.action === 'worsen') {
          await tx
            .update(driftAlerts)
            .set({ notified: finding.columns, notifiedAt: now, lastReport: stored.id, updatedAt: now })
            .where(eq(driftAlerts.id, open.id));
          await appendAlertEvent(tx, exec, {
            alertId: open.id,
            type: decision.action === 'repeat' ? 'repeated' : 'worsened',
            actor: SYSTEM_ACTOR,
            reportId: stored.id,
            detail:
              decision.action === 'worsen'
                ? { ...detail, newly: decision.newly, grown: decision.grown, before: open.notified }
                : detail,
          });
          return { status: 'checked', stored, alert: open, action: decision.action } as const;
        }
        await tx
          .update(driftAlerts)
          .set({ lastReport: stored.id, updatedAt: now })
          .where(eq(driftAlerts.id, open.id));
        return { status: 'checked', stored } as const;
      });
      if (outcome.status === 'duplicate') return outcome;
      const view = reportView(outcome.stored);
      if (!('action' in outcome) || !outcome.action) return { status: 'checked', report: view };
      deps.metrics?.alerts.inc({ pipeline, kind: outcome.action });
      log.info('drift alert', {
        pipeline,
        alert: outcome.alert.number,
        action: outcome.action,
        drifted: driftedColumns,
      });
      if (outcome.action === 'fire' && monitoring.on_drift === 'retrain') {
        // After the alert commits: the run is its own transaction, once per alert (its request key).
        await retrainFor(outcome.alert, SYSTEM_ACTOR).catch((error: Error) =>
          log.error('drift retrain could not start; [Retrain now] still can', {
            pipeline,
            alert: outcome.alert.number,
            error: error.message,
          }),
        );
      }
      return {
        status: 'checked',
        report: view,
        alert: { number: outcome.alert.number, action: outcome.action },
      };
    },
    async latest(pipeline) {
      const row = await latestReport(db, pipeline);
      return row ? reportView(row) : null;
    },
    async report(id) {
      const row = await reportById(db, id);
      return row ? reportView(row) : null;
    },
    history: (pipeline, limit = 50) => reportHistory(db, pipeline, limit),
    async alert(number) {
      const alert = await alertByNumber(db, number);
      if (!alert) throw new StewardError('NOT_FOUND', `there is no drift alert #${number}`);
      const report = await reportById(db, alert.lastReport);
      return {
        alert: await alertView(alert),
        events: await alertEventsOf(db, alert.id),
        report: report ? reportView(report) : null,
      };
    },
    async alerts(pipeline, limit = 20) {
      return Promise.all((await alertsOf(db, pipeline, limit)).map(alertView));
    },
    async snooze({ alert: number, by, ms, via }) {
      const result = await db.transaction(async (tx) => {
        const alert = await lockAlert(tx, number);
        if (!alert) throw new StewardError('NOT_FOUND', `there is no drift alert #${number}`);
        await requireOperator(tx, by, alert.pipeline, 'snooze its drift alerts');
        const now = await clock.now(tx);
        if (alert.status !== 'firing') return { alert, applied: false };
        // A snooze already running for longer is kept: a second click never shortens it.
        if (alert.snoozedUntil && alert.snoozedUntil.getTime() >= now.getTime() + ms - 60_000) {
          return { alert, applied: false };
        }
        const until = new Date(now.getTime() + ms);
        const [updated] = await tx
          .update(driftAlerts)
          .set({ snoozedUntil: until, snoozedBy: by, updatedAt: now })
          .where(eq(driftAlerts.id, alert.id))
          .returning();
        await appendAlertEvent(tx, database.executorFor(tx), {
          alertId: alert.id,
          type: 'snoozed',
          actor: by,
          detail: { until: until.toISOString(), ...(via ? { via } : {}) },
        });
        return { alert: updated ?? alert, applied: true };
      });
      if (result.applied) {
        deps.metrics?.alerts.inc({ pipeline: result.alert.pipeline, kind: 'snooze' });
      }
      return { alert: await alertView(result.alert), applied: result.applied };
    },
    close: () => comparer.close(),
    async retrain({ alert: number, by, via, credential }) {
      const alert = await alertByNumber(db, number);
      if (!alert) throw new StewardError('NOT_FOUND', `there is no drift alert #${number}`);
      // Checked again when the run is created (in its transaction); checked here first so a
      // viewer's click is answered with the role it needs, not a half-started retrain.
      await requireOperator(db, by, alert.pipeline, 'retrain it');
      return retrainFor(alert, by, { ...(via ? { via } : {}), ...(credential ? { credential } : {}) });
    },
  };

  async function alertView(row: DriftAlertRow): Promise<AlertView> {
    let retrainRun: number | null = null;
    let retrainState: string | null = null;
    if (row.retrainRun) {
      const [run] = await db
        .select({ number: runs.number, state: runs.state })
        .from(runs)
        .where(eq(runs.id, row.retrainRun));
      retrainRun = run?.number ?? null;
      retrainState = run?.state ?? null;
    }
    return {
      id: row.id,
      number: row.number,
      pipeline: row.pipeline,
      version: row.version,
      channel: row.channel,
      status: row.status as AlertView['status'],
      notified: row.notified,
      notifiedAt: row.notifiedAt.toISOString(),
      snoozedUntil: row.snoozedUntil?.toISOString() ?? null,
      snoozedBy: row.snoozedBy,
      retrainRun,
      retrainState,
      resolvedAt: row.resolvedAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      lastReport: row.lastReport,
    };
  }
}

/** FORBIDDEN unless `user` is an operator (or more) of `pipeline`, saying who can grant it. */
export async function requireOperator(
  db: Parameters<typeof roleOn>[0],
  user: string,
  pipeline: string,
  what: string,
): Promise<void> {
  const role = await roleOn(db, user, pipeline);
  if (!hasRole(role, 'operator')) {
    throw new StewardError(
      'FORBIDDEN',
      `You need the operator role on ${pipeline} to ${what} (you are ${role ?? 'not granted any role'}). ` +
        `Ask an admin: \`/mlops grant @you operator ${pipeline}\`.`,
    );
  }
}

export function reportView(row: DriftReportRow): ReportView {
  return {
    ...row,
    tickAt: row.tickAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    report: row.report as MonitorReport,
  };
}

/** The drifted features of a report, most drifted first (by how far past its threshold). */
export function mostDrifted(report: MonitorReport | null, limit = 4): string[] {
  if (!report) return [];
  return report.drift.columns
    .filter((c) => c.drifted)
    .sort((a, b) => severity(b) - severity(a))
    .slice(0, limit)
    .map((c) => c.column);
}

/** How far past its threshold a column is: distance ÷ threshold, or threshold ÷ p-value for tests. */
export function severity(column: ColumnDrift): number {
  if (column.pValue != null) return column.threshold / Math.max(column.pValue, 1e-300);
  return column.score === null ? 0 : column.score / column.threshold;
}

const hasColumn = (table: Table, name: string) => table.columns.some((c) => c.name === name);

/** The columns compared: those the model reads and the log keeps, or the spec's own list. */
function monitoredColumns(loaded: LoadedModel, reference: Table, spec: PipelineSpec): string[] {
  const wanted = spec.monitoring.drift.columns ?? loaded.inputs;
  return wanted.filter((name) => name !== spec.target && hasColumn(reference, name));
}

/** Logged feature rows as a table typed like the reference, so both sides compare alike. */
export function tableLike(
  reference: Table,
  columns: readonly string[],
  rows: readonly Record<string, unknown>[],
): Table {
  const out: Table['columns'] = [];
  for (const name of columns) {
    const ref = reference.columns.find((c) => c.name === name);
    if (!ref) continue;
    if (ref.type === 'numeric' || ref.type === 'boolean') {
      const values = new Float64Array(rows.length);
      rows.forEach((row, i) => {
        values[i] = numberOf(row[name]);
      });
      out.push({ name, type: ref.type, values });
    } else {
      out.push({
        name,
        type: ref.type,
        values: rows.map((row) => {
          const v = row[name];
          return v === null || v === undefined || v === '' ? null : String(v);
        }),
      });
    }
  }
  return { columns: out, rowCount: rows.length };
}

function numberOf(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && value.trim() !== '') {
    const lowered = value.trim().toLowerCase();
    if (lowered === 'true' || lowered === 'yes') return 1;
    if (lowered === 'false' || lowered === 'no') return 0;
    const n = Number(value);
    return Number.isFinite(n) ? n : Number.NaN;
  }
  return Number.NaN;
}

/** The first `limit` rows of a table as request-shaped records of `fields`. */
function recordsOf(table: Table, fields: readonly string[], limit: number): Record<string, unknown>[] {
  const n = Math.min(table.rowCount, limit);
  const columns = table.columns.filter((c) => fields.includes(c.name));
  return Array.from({ length: n }, (_, i) => {
    const row: Record<string, unknown> = {};
    for (const column of columns) {
      const v = column.values[i];
      row[column.name] = typeof v === 'number' && Number.isNaN(v) ? null : v;
    }
    return row;
  });
}

/** Outputs as a one-column table: the predicted label (classifier) or value (regressor). */
function outputTable(loaded: LoadedModel, outputs: readonly unknown[]): Table {
  if (loaded.task === 'regression') {
    const values = Float64Array.from(outputs, (o) => (typeof o === 'number' ? o : Number.NaN));
    return { columns: [{ name: 'prediction', type: 'numeric', values }], rowCount: outputs.length };
  }
  const values = outputs.map((o) => {
    const label = (o as { label?: unknown } | null)?.label;
    return label === undefined || label === null ? null : String(label);
  });
  return { columns: [{ name: 'prediction', type: 'categorical', values }], rowCount: outputs.length };
}

/** Live accuracy (and ROC AUC for two classes) or RMSE and MAE, beside the training holdout's. */
function livePerformance(
  loaded: LoadedModel,
  labelled: { prediction: unknown; label: unknown }[],
  training: Record<string, unknown>,
): Performance | null {
  if (labelled.length < MIN_LABELLED) return null;
  const trained = (name: string) => (typeof training[name] === 'number' ? (training[name] as number) : null);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  if (loaded.task === 'regression') {
    const y = Float64Array.from(labelled, (r) => Number(r.label));
    const p = Float64Array.from(labelled, (r) => Number(r.prediction));
    return {
      labelled: labelled.length,
      metrics: [
        { name: 'rmse', live: round(rmse(y, p)), training: trained('rmse') },
        { name: 'mae', live: round(mae(y, p)), training: trained('mae') },
      ],
    };
  }
  const index = new Map(loaded.labels.map((label, k) => [label, k]));
  const y = Float64Array.from(labelled, (r) => index.get(String(r.label)) ?? -1);
  const p = Float64Array.from(
    labelled,
    (r) => index.get(String((r.prediction as { label?: unknown }).label)) ?? -2,
  );
  const metrics: LiveMetric[] = [
    { name: 'accuracy', live: round(accuracy(y, p)), training: trained('accuracy') },
  ];
  if (loaded.labels.length === 2) {
    const positive = loaded.labels[1] as string;
    const scores = Float64Array.from(labelled, (r) => {
      const probabilities = (r.prediction as { probabilities?: Record<string, number> }).probabilities;
      return probabilities?.[positive] ?? Number.NaN;
    });
    const bothClasses = y.includes(0) && y.includes(1);
    if (bothClasses && !scores.some(Number.isNaN)) {
      metrics.push({ name: 'roc_auc', live: round(rocAuc(y, scores, 1)), training: trained('roc_auc') });
    }
  }
  return { labelled: labelled.length, metrics };
}
