import type { Database } from '../db/client.ts';
import {
  type AlertEventRow,
  alertById,
  alertEventsOf,
  alertMessagesOf,
  recordAlertMessage,
  reportById,
} from '../db/drift-repo.ts';
import type { Logger } from '../log.ts';
import { renderPng } from '../stages/charts/render.ts';
import { type Monitoring, type MonitorReport, reportView } from '../workflows/monitoring.ts';
import { type ChatPort, ChatRefused, type MessageRef } from './chat.ts';
import { alertNote, alertPage, driftChart } from './views/drift-alert.ts';
import { modelPath, type PageLinks } from './views/links.ts';

const PAGES = new Set(['fired', 'repeated', 'worsened']);

/**
 * Brings a drift alert's messages on one surface up to date, as the run notifier does for
 * runs: each page event gets its message in the alert channel (and its chart in the page's
 * thread), each other event a reply in the thread of the page before it, and every page is
 * redrawn with the alert as it is now. What is posted is recorded at once, so a delivery
 * that is repeated (a lost lease, a retry) posts nothing twice.
 */
export function createAlertNotifier({
  database,
  monitoring,
  chat,
  log,
  links = () => undefined,
}: {
  database: Database;
  monitoring: Pick<Monitoring, 'alert'>;
  chat: ChatPort;
  log: Logger;
  /** How this surface links to the model page. @default no links */
  links?: PageLinks;
}): (alertId: string) => Promise<void> {
  const { surface } = chat;
  const db = database.db;
  return async (alertId) => {
    const row = await alertById(db, alertId);
    if (!row) return;
    const { alert } = await monitoring.alert(row.number);
    const events = await alertEventsOf(db, alertId);
    const posted = new Map((await alertMessagesOf(db, alertId, surface)).map((m) => [m.purpose, m]));
    const reports = new Map<string, MonitorReport | null>();
    const reportOf = async (event: AlertEventRow) => {
      if (!event.reportId) return null;
      if (!reports.has(event.reportId)) {
        const stored = await reportById(db, event.reportId);
        reports.set(event.reportId, stored ? reportView(stored).report : null);
      }
      return reports.get(event.reportId) ?? null;
    };
    const pages = events.filter((e) => PAGES.has(e.type));
    const newest = pages.at(-1);
    const details = links(modelPath(alert.pipeline));
    const pageMessage = async (event: AlertEventRow) =>
      alertPage({
        alert,
        event,
        report: await reportOf(event),
        latest: event === newest,
        ...(details ? { details } : {}),
      });

    async function record(purpose: string, ref: MessageRef): Promise<void> {
      const kept = await recordAlertMessage(db, {
        alertId,
        surface,
        purpose,
        channel: ref.channel,
        ts: ref.id,
      });
      if (!kept) log.warn('an alert message was posted twice', { alert: alert.number, purpose, surface });
      posted.set(purpose, {
        alertId,
        surface,
        purpose,
        channel: ref.channel,
        ts: ref.id,
        createdAt: new Date(),
      });
    }

    let page: MessageRef | undefined;
    const fresh = new Set<string>();
    for (const event of events) {
      if (PAGES.has(event.type)) {
        const purpose = `page:${event.seq}`;
        const existing = posted.get(purpose);
        if (existing) {
          page = { channel: existing.channel, id: existing.ts };
        } else {
          page = await chat.post(alert.channel, await pageMessage(event));
          await record(purpose, page);
          fresh.add(purpose);
          log.info('drift alert posted', {
            alert: alert.number,
            event: event.type,
            channel: page.channel,
            surface,
          });
        }
        const chart = `chart:${event.seq}`;
        if (!posted.has(chart)) await uploadChart(event, page, chart);
      } else if (page) {
        const purpose = `note:${event.seq}`;
        if (posted.has(purpose)) continue;
        await record(purpose, await chat.post(page.channel, alertNote(alert, event), { thread: page.id }));
      }
    }
    // Redraw the older pages: buttons only on the newest, and the status as it is now.
    for (const event of pages) {
      const purpose = `page:${event.seq}`;
      const message = posted.get(purpose);
      if (!message || fresh.has(purpose)) continue;
      await chat.update({ channel: message.channel, id: message.ts }, await pageMessage(event));
    }

    async function uploadChart(event: AlertEventRow, at: MessageRef, purpose: string): Promise<void> {
      const report = await reportOf(event);
      let chart: ReturnType<typeof driftChart>;
      let png: Buffer;
      try {
        chart = report && driftChart(report, `${alert.pipeline} v${alert.version}: training data vs now`);
        if (!chart) return;
        ({ png } = await renderPng(chart.spec));
      } catch (error) {
        // A chart is a picture of the report, not the report: the page stands without it.
        log.warn('drift chart not drawn', { alert: alert.number, error: (error as Error).message });
        return;
      }
      const columns = chart.columns.join(', ');
      let ref: MessageRef;
      try {
        ref = await chat.upload(
          at.channel,
          {
            filename: `drift-${alert.pipeline}-${alert.number}-${event.seq}.png`,
            content: png,
            mimeType: 'image/png',
            title: `Drift of ${alert.pipeline}: ${columns}`,
            altText: `Histograms of ${columns} in the training data and in the current window`,
          },
          { thread: at.id },
        );
      } catch (error) {
        if (!(error instanceof ChatRefused)) throw error;
        // Refused for good (no files:write, a channel uploads may not reach): the page and its
        // replies go on without the chart, which is recorded as given up.
        log.warn('drift chart refused by chat; the alert goes on without it', {
          alert: alert.number,
          error: error.message,
        });
        ref = { channel: at.channel, id: '' };
      }
      await record(purpose, ref);
    }
  };
}
