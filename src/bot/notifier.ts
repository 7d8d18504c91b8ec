import type { Database } from '../db/client.ts';
import { chatMessagesOf, recordChatMessage, runChannelOf, setChatMessageTs } from '../db/runs-repo.ts';
import type { Logger } from '../log.ts';
import type { StageName } from '../stages/stage.ts';
import type { RunService } from '../workflows/run-service.ts';
import type { ChatPort } from './chat.ts';
import { cardFor } from './views/approval-card.ts';
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
 */
export function createNotifier({
  database,
  service,
  chat,
  log,
}: {
  database: Database;
  service: RunService;
  chat: ChatPort;
  log: Logger;
}): (runId: string) => Promise<void> {
  const { surface } = chat;
  return async (runId) => {
    const messages = await chatMessagesOf(database.db, runId, surface);
    const detail = await service.show({ id: runId });
    const { run, timeline } = detail;
    /** Posts the root message (where it was reserved, else in the pipeline's channel) and records it. */
    async function postRoot(reservedIn: string | undefined): Promise<{ channel: string; ts: string }> {
      const channel = reservedIn ?? (await runChannelOf(database.db, runId));
      const posted = await chat.post(channel, runMessage(run, { timeline }));
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
    if (reserved?.ts)
      await chat.update({ channel: root.channel, id: root.ts }, runMessage(run, { timeline }));
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
    if (card) {
      await chat.update({ channel: card.channel, id: card.ts }, cardFor(run, { timeline }));
    } else if (run.state === 'awaitingApproval') {
      // In the channel, not the thread: approvers should see it without opening the run.
      const posted = await chat.post(root.channel, cardFor(run, { timeline }));
      await recordChatMessage(database.db, {
        runId,
        surface,
        purpose: 'approval',
        channel: posted.channel,
        ts: posted.id,
      });
      log.info('approval card posted', { run: run.number, channel: posted.channel, surface });
    }
  };
}
