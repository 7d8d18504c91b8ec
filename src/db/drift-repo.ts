import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { markAlertOutOfDate } from './chat-outbox.ts';
import type { Queryable, SqlExecutor, Tx } from './client.ts';
import { alertEvents, alertMessages, driftAlerts, driftReports } from './schema.ts';

export type DriftReportRow = typeof driftReports.$inferSelect;
export type DriftAlertRow = typeof driftAlerts.$inferSelect;
export type AlertEventRow = typeof alertEvents.$inferSelect;
export type AlertEventType = 'fired' | 'repeated' | 'worsened' | 'resolved' | 'snoozed' | 'retrain';

/**
 * Stores a check's report. A scheduled tick that is stored already (another process ran
 * it) stores nothing and returns null: `drift_reports_tick` is the last word on "once".
 */
export async function insertReport(
  tx: Queryable,
  row: typeof driftReports.$inferInsert,
): Promise<DriftReportRow | null> {
  const [inserted] = await tx.insert(driftReports).values(row).onConflictDoNothing().returning();
  return inserted ?? null;
}

export async function reportOfTick(db: Queryable, pipeline: string, tickAt: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: driftReports.id })
    .from(driftReports)
    .where(and(eq(driftReports.pipeline, pipeline), eq(driftReports.tickAt, tickAt)));
  return row !== undefined;
}

/** Whether a tick scheduled after `tickAt` has been checked (a retried tick is then too late to alert). */
export async function laterTickChecked(db: Queryable, pipeline: string, tickAt: Date): Promise<boolean> {
  const [row] = await db
    .select({ id: driftReports.id })
    .from(driftReports)
    .where(and(eq(driftReports.pipeline, pipeline), gt(driftReports.tickAt, tickAt)))
    .limit(1);
  return row !== undefined;
}

export async function latestReport(db: Queryable, pipeline: string): Promise<DriftReportRow | null> {
  const [row] = await db
    .select()
    .from(driftReports)
    .where(eq(driftReports.pipeline, pipeline))
    .orderBy(desc(driftReports.createdAt))
    .limit(1);
  return row ?? null;
}

export async function reportById(db: Queryable, id: string): Promise<DriftReportRow | null> {
  const [row] = await db.select().from(driftReports).where(eq(driftReports.id, id));
  return row ?? null;
}

/** Reports newest first, without their bodies. */
export function reportHistory(db: Queryable, pipeline: string, limit: number) {
  return db
    .select({
      id: driftReports.id,
      version: driftReports.version,
      trigger: driftReports.trigger,
      tickAt: driftReports.tickAt,
      current: driftReports.current,
      currentRows: driftReports.currentRows,
      datasetDrift: driftReports.datasetDrift,
      driftedColumns: driftReports.driftedColumns,
      share: sql<number>`(${driftReports.report} -> 'drift' ->> 'share')::float8`,
      createdAt: driftReports.createdAt,
    })
    .from(driftReports)
    .where(eq(driftReports.pipeline, pipeline))
    .orderBy(desc(driftReports.createdAt))
    .limit(limit);
}

/** The pipeline's firing alert, locked for the rest of `tx` so two checks decide one after the other. */
export async function lockFiringAlert(tx: Tx, pipeline: string): Promise<DriftAlertRow | null> {
  const [row] = await tx
    .select()
    .from(driftAlerts)
    .where(and(eq(driftAlerts.pipeline, pipeline), eq(driftAlerts.status, 'firing')))
    .for('update');
  return row ?? null;
}

export async function lockAlert(tx: Tx, number: number): Promise<DriftAlertRow | null> {
  const [row] = await tx.select().from(driftAlerts).where(eq(driftAlerts.number, number)).for('update');
  return row ?? null;
}

export async function alertById(db: Queryable, id: string): Promise<DriftAlertRow | null> {
  const [row] = await db.select().from(driftAlerts).where(eq(driftAlerts.id, id));
  return row ?? null;
}

export async function alertByNumber(db: Queryable, number: number): Promise<DriftAlertRow | null> {
  const [row] = await db.select().from(driftAlerts).where(eq(driftAlerts.number, number));
  return row ?? null;
}

export function alertsOf(db: Queryable, pipeline: string, limit: number) {
  return db
    .select()
    .from(driftAlerts)
    .where(eq(driftAlerts.pipeline, pipeline))
    .orderBy(desc(driftAlerts.createdAt))
    .limit(limit);
}

export function alertEventsOf(db: Queryable, alertId: string) {
  return db.select().from(alertEvents).where(eq(alertEvents.alertId, alertId)).orderBy(alertEvents.seq);
}

/**
 * Appends an event to an alert and marks its messages out of date, in `tx`: the chat
 * delivery that shows the event exists exactly when the event does.
 */
export async function appendAlertEvent(
  tx: Tx,
  exec: SqlExecutor,
  event: {
    alertId: string;
    type: AlertEventType;
    actor: string;
    reportId?: string;
    detail?: Record<string, unknown>;
  },
): Promise<number> {
  const [last] = await tx
    .select({ seq: sql<number>`coalesce(max(${alertEvents.seq}), 0)::int` })
    .from(alertEvents)
    .where(eq(alertEvents.alertId, event.alertId));
  const seq = Number(last?.seq ?? 0) + 1;
  await tx.insert(alertEvents).values({
    alertId: event.alertId,
    seq,
    type: event.type,
    actor: event.actor,
    reportId: event.reportId ?? null,
    detail: event.detail ?? {},
  });
  await markAlertOutOfDate(exec, event.alertId);
  return seq;
}

export function alertMessagesOf(db: Queryable, alertId: string, surface: string) {
  return db
    .select()
    .from(alertMessages)
    .where(and(eq(alertMessages.alertId, alertId), eq(alertMessages.surface, surface)));
}

/** Records a posted alert message; false when a delivery recorded this purpose first. */
export async function recordAlertMessage(
  db: Queryable,
  row: { alertId: string; surface: string; purpose: string; channel: string; ts: string },
): Promise<boolean> {
  const inserted = await db.insert(alertMessages).values(row).onConflictDoNothing().returning();
  return inserted.length > 0;
}
