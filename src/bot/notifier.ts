import type { Database } from '../db/client.ts';
import { chatMessagesOf, recordChatMessage } from '../db/runs-repo.ts';
import type { Logger } from '../log.ts';
import type { StageName } from '../stages/stage.ts';
import type { RunService } from '../workflows/run-service.ts';
import type { ChatPort } from './chat.ts';
import { cardFor } from './views/approval-card.ts';
import { runMessage } from './views/run-message.ts';
import { stageReport } from './views/stage-report.ts';

/**
 * Brings a run's chat messages up to date: the root message (the stage checklist), one
 * thread reply per finished stage, and the approval card (posted when the run reaches the
 * gate, turned into the decision afterwards). It renders the run as it is now, so however
 * many events a delivery stands for, one pass shows them all. Runs that were not started
 * from chat have no root message and are left alone.
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
  return async (runId) => {
    const messages = await chatMessagesOf(database.db, runId);
    const root = messages.find((m) => m.purpose === 'root');
    if (!root) return;
    const detail = await service.show({ id: runId });
    const { run, timeline } = detail;
    await chat.update(root.channel, root.ts, runMessage(run, { timeline }));

    const reported = new Set(messages.map((m) => m.purpose));
    for (const attempt of detail.attempts) {
      const purpose = `report:${attempt.stage}`;
      if (attempt.status !== 'done' || reported.has(purpose) || attempt.stage === 'deploy') continue;
      const posted = await chat.post(root.channel, stageReport(run, attempt.stage as StageName), root.ts);
      await recordChatMessage(database.db, { runId, purpose, channel: posted.channel, ts: posted.ts });
      reported.add(purpose);
    }

    const card = messages.find((m) => m.purpose === 'approval');
    if (card) {
      await chat.update(card.channel, card.ts, cardFor(run, { timeline }));
    } else if (run.state === 'awaitingApproval') {
      // In the channel, not the thread: approvers should see it without opening the run.
      const posted = await chat.post(root.channel, cardFor(run, { timeline }));
      await recordChatMessage(database.db, {
        runId,
        purpose: 'approval',
        channel: posted.channel,
        ts: posted.ts,
      });
      log.info('approval card posted', { run: run.number, channel: posted.channel });
    }
  };
}
