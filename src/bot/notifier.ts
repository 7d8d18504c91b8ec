import type { Database } from '../db/client.ts';
import {
  chatMessagesOf,
  recordChatMessage,
  runChannelOf,
  setChatMessageTs,
  stageOutputField,
} from '../db/runs-repo.ts';
import type { Logger } from '../log.ts';
import type { StageName } from '../stages/stage.ts';
import type { RunView } from '../workflows/run-engine.ts';
import type { RunService } from '../workflows/run-service.ts';
import { type ChatPort, ChatRefused } from './chat.ts';
import { cardFor } from './views/approval-card.ts';
import { type ApprovalChart, type ApprovalChartInputs, approvalChart } from './views/approval-chart.ts';
import { type PageLinks, runPath } from './views/links.ts';
import { runMessage } from './views/run-message.ts';
import { stageReport } from './views/stage-report.ts';

/**
 * Brings a run's chat messages on one surface up to date: the root message (the stage
 * checklist), one thread reply per finished stage, and the approval card (posted when the
 * run reaches the gate, turned into the decision afterwards). It renders the run as it is
 * now, so however many events a delivery stands for, one pass shows them all.
 *
 * Every run has a root message on every surface: where it was asked for (reserved with the
 * run), else in the pipeline's channel, so runs started from the CLI, REST or another
 * surface are followed too.
 *
 * Right after the approval card, in the same channel, comes its chart (this run's model
 * against production's, see views/approval-chart.ts): approvers see the evidence under the
 * question without opening a thread. It is recorded as `approval-chart`, so it is drawn and
 * uploaded once per run and surface. A chart that cannot be drawn, or that the chat service
 * refuses for good, is logged and skipped (recorded with no id): the card never waits for it.
 */
export function createNotifier({
  database,
  service,
  chat,
  log,
  drawChart = approvalChart,
  links = () => undefined,
}: {
  database: Database;
  service: RunService;
  chat: ChatPort;
  log: Logger;
  /** Draws the approval card's chart; null when there is nothing to draw. @default approvalChart */
  drawChart?: (run: RunView, inputs: ApprovalChartInputs) => Promise<ApprovalChart | null>;
  /** How this surface links to the run page. @default no links */
  links?: PageLinks;
}): (runId: string) => Promise<void> {
  const { surface } = chat;
  return async (runId) => {
    const messages = await chatMessagesOf(database.db, runId, surface);
    const detail = await service.show({ id: runId });
    const { run, timeline } = detail;
    const url = links(runPath(run.number));
    const options = { timeline, ...(url ? { details: url } : {}) };
    /** Posts the root message (where it was reserved, else in the pipeline's channel) and records it. */
    async function postRoot(reservedIn: string | undefined): Promise<{ channel: string; ts: string }> {
      const channel = reservedIn ?? (await runChannelOf(database.db, runId));
      const posted = await chat.post(channel, runMessage(run, options));
      const record = { runId, surface, purpose: 'root', channel: posted.channel, ts: posted.id };
      const kept = reservedIn
        ? await setChatMessageTs(database.db, record)
        : await recordChatMessage(database.db, record);
      if (kept) return record;
      // Another delivery posted it first (one whose lease ran out meanwhile): follow that one.
      log.warn('a run message was posted twice; following the first', { run: run.number, surface });
      const first = (await chatMessagesOf(database.db, runId, surface)).find(
        (m) => m.purpose === 'root' && m.ts,
      );
      if (!first) throw new Error(`run ${runId} has no root message on ${surface} after posting one`);
      return first;
    }

    const reserved = messages.find((m) => m.purpose === 'root');
    const root = reserved?.ts
      ? { channel: reserved.channel, ts: reserved.ts }
      : await postRoot(reserved?.channel);
    if (reserved?.ts) await chat.update({ channel: root.channel, id: root.ts }, runMessage(run, options));
    const thread = { thread: root.ts };

    const reported = new Set(messages.map((m) => m.purpose));
    for (const attempt of detail.attempts) {
      const purpose = `report:${attempt.stage}`;
      if (attempt.status !== 'done' || reported.has(purpose) || attempt.stage === 'deploy') continue;
      const posted = await chat.post(root.channel, stageReport(run, attempt.stage as StageName), thread);
      await recordChatMessage(database.db, {
        runId,
        surface,
        purpose,
        channel: posted.channel,
        ts: posted.id,
      });
      reported.add(purpose);
    }

    const card = messages.find((m) => m.purpose === 'approval');
    let cardChannel = card?.channel;
    if (card) {
      await chat.update({ channel: card.channel, id: card.ts }, cardFor(run, options));
    } else if (run.state === 'awaitingApproval') {
      // In the channel, not the thread: approvers should see it without opening the run.
      const posted = await chat.post(root.channel, cardFor(run, options));
      await recordChatMessage(database.db, {
        runId,
        surface,
        purpose: 'approval',
        channel: posted.channel,
        ts: posted.id,
      });
      cardChannel = posted.channel;
      log.info('approval card posted', { run: run.number, channel: posted.channel, surface });
    }
    if (cardChannel && run.state === 'awaitingApproval' && !reported.has(CHART_PURPOSE)) {
      await postChart(run, cardChannel);
    }
  };

  /** Draws and uploads the approval chart under the card, or records that it has none. */
  async function postChart(run: RunView, channel: string): Promise<void> {
    const record = (ts: string) =>
      recordChatMessage(database.db, { runId: run.id, surface, purpose: CHART_PURPOSE, channel, ts });
    const giveUp = async (why: string, error: unknown) => {
      log.warn(why, { run: run.number, surface, error: (error as Error).message });
      await record('');
    };
    // Read outside the try: a database that fails is retried with the delivery, not taken for a bad chart.
    const inputs = {
      curves: await stageOutputField(database.db, run.id, 'evaluate', 'curves'),
      history: await stageOutputField(database.db, run.id, 'train', 'history'),
    };
    let chart: ApprovalChart | null;
    try {
      chart = await drawChart(run, inputs);
    } catch (error) {
      // The same data draws the same way next time: give up on this run's chart for good.
      return giveUp('approval chart not drawn; the card stays without it', error);
    }
    if (!chart) {
      // An older run without curves, or more than two classes and no training history.
      await record('');
      return;
    }
    let posted: { channel: string; id: string };
    try {
      posted = await chat.upload(channel, chart.file, { comment: chart.comment });
    } catch (error) {
      // A refusal (no files:write scope, say) stays one; anything else is retried with the delivery.
      if (error instanceof ChatRefused)
        return giveUp('approval chart refused; the card stays without it', error);
      throw error;
    }
    if (await record(posted.id)) {
      log.info('approval chart posted', { run: run.number, channel: posted.channel, surface });
    } else {
      log.warn('an approval chart was uploaded twice', { run: run.number, surface });
    }
  }
}

/** The chat message purpose of the approval card's chart; its `ts` is empty when there is none. */
export const CHART_PURPOSE = 'approval-chart';
