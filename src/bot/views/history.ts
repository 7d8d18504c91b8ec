/**
 * The `history` reply: the changes to a pipeline's production alias, newest first, one line
 * each: when, what was done, what served after it, the run that did it, who asked and who
 * approved, and whether a rollback has undone it since.
 */
import type { HistoryEntry } from '../../workflows/deployments.ts';
import { context, header, type Message, section, sections } from './blocks.ts';
import { servingOfEntry, servingText } from './deployment.ts';
import { escapeText, formatTime, mention, people, plural } from './format.ts';
import { fitBlocks, LIMITS, truncate } from './limits.ts';

/** Entries shown; the caller asks the service for one more, to know whether there are older ones. */
export const HISTORY_LINES = 15;

const ACTION_MARK: Record<string, string> = { deploy: '🚀', rollback: '⏪', promote: '🏁' };

/** `🚀 2026-01-02 14:03 UTC *deploy* v3 with v4 as a 10% canary · run #12 · by alice, approved by bob`. */
function historyLine(entry: HistoryEntry): string {
  const mark = ACTION_MARK[entry.action] ?? '•';
  const action = escapeText(truncate(entry.action, 20));
  const run = entry.run === null ? '' : ` · run #${entry.run}`;
  const approvers = entry.approvedBy.filter((user) => user !== entry.actor);
  const approved = approvers.length ? `, approved by ${people(approvers)}` : '';
  const replaced =
    entry.replaced !== null && entry.replaced !== entry.version ? ` · replaced v${entry.replaced}` : '';
  const now = entry.until === null ? ' · *serving now*' : '';
  const undone = entry.undoneBy !== null ? ' · ↩️ undone by a later rollback' : '';
  return (
    `${mark} ${formatTime(entry.from)} *${action}* ${servingText(servingOfEntry(entry))}${run}` +
    ` · by ${mention(entry.actor)}${approved}${replaced}${now}${undone}`
  );
}

/**
 * `entries` newest first, as `Deployments.history` returns them; at most `limit` are shown,
 * and a longer list says that older changes were left out.
 */
export function historyList(
  pipeline: string,
  entries: readonly HistoryEntry[],
  options: { limit?: number; command?: string } = {},
): Message {
  const { limit = HISTORY_LINES, command = '/mlops' } = options;
  const name = escapeText(truncate(pipeline, 80));
  if (entries.length === 0) {
    return {
      text: `${truncate(pipeline, 80)} has no deployments yet.`,
      blocks: [
        section(
          `*${name}* has no deployments yet. ` +
            `\`${escapeText(`${command} deploy ${truncate(pipeline, 80)} v<N>`)}\` puts a model version in production.`,
        ),
      ],
    };
  }
  const shown = entries.slice(0, Math.max(1, limit));
  const older =
    entries.length > shown.length
      ? `Only the latest ${plural(shown.length, 'change')} are shown; older ones are kept too.`
      : '';
  return {
    text: `Deployment history of ${truncate(pipeline, 80)}: ${plural(shown.length, 'change')}${older ? ' or more' : ''}`,
    blocks: fitBlocks(
      [
        header(`Deployment history of ${truncate(pipeline, 80)}`),
        ...sections(shown.map(historyLine)),
        context('🚀 deploy · ⏪ rollback · 🏁 promote', older),
      ],
      LIMITS.messageBlocks,
    ),
  };
}
