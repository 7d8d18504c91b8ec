import type { ConsoleMessageRow } from '../../db/console-repo.ts';

/** A console message as the page receives it (`GET /api/console/state`, and each `message` event). */
export type ConsoleMessage = {
  id: string;
  channel: string;
  thread: string | null;
  author: string;
  text: string;
  blocks: unknown[] | null;
  ephemeral: boolean;
  createdAt: string;
  updatedAt: string;
};

/** A direct message's channel: `dm:<user>`, the person's conversation with Steward. */
export const dmChannel = (user: string): string => `dm:${user}`;

/** Whether `user` may see a message: not someone else's ephemeral answer, nor someone else's direct messages. */
export function canSee(user: string, row: Pick<ConsoleMessageRow, 'visibleTo' | 'channel'>): boolean {
  if (row.visibleTo !== null && row.visibleTo !== user) return false;
  return !row.channel.startsWith('dm:') || row.channel === dmChannel(user);
}

export function toConsoleMessage(row: ConsoleMessageRow): ConsoleMessage {
  return {
    id: String(row.id),
    channel: row.channel,
    thread: row.thread === null ? null : String(row.thread),
    author: row.author,
    text: row.text,
    blocks: Array.isArray(row.blocks) ? row.blocks : null,
    ephemeral: row.visibleTo !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
