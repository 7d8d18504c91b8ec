import type { ModalView } from '@slack/types';
import type { Database } from '../../db/client.ts';
import { insertConsoleMessage, setConsoleHome, updateConsoleMessage } from '../../db/console-repo.ts';
import { DEFAULT_CHANNEL } from '../../db/runs-repo.ts';
import { SYSTEM_ACTOR } from '../../workflows/run-engine.ts';
import type { ChatPort } from '../chat.ts';

/** The console's modals: a request that may open one registers its trigger; the HTTP answer carries the view. */
export type ModalTriggers = {
  /** Collects the modals opened for `trigger` while `fn` runs. */
  collect(trigger: string, fn: () => Promise<void>): Promise<ModalView[]>;
};

/**
 * The chat port on the console: messages are rows in the database, so every replica
 * serves the same conversation, and each change is NOTIFYed to every process (its open
 * consoles get it over Server-Sent Events). A message's id is its row id.
 */
export function createConsoleChat({ database }: { database: Database }): ChatPort & ModalTriggers {
  const { db } = database;
  const pending = new Map<string, ModalView[]>();
  const idOf = (ref: { id: string }) => {
    const id = Number(ref.id);
    if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`not a console message id: ${ref.id}`);
    return id;
  };
  return {
    surface: 'console',
    async post(to, message, options) {
      const channel = consoleChannelOf(to);
      const row = await insertConsoleMessage(db, {
        channel,
        author: SYSTEM_ACTOR,
        ...message,
        ...(options?.thread ? { thread: idOf({ id: options.thread }) } : {}),
      });
      return { channel, id: String(row.id) };
    },
    async update(ref, message) {
      const row = await updateConsoleMessage(db, idOf(ref), message);
      if (!row) throw new Error(`console message ${ref.id} does not exist`);
      return ref;
    },
    async postEphemeral(channel, user, message) {
      const row = await insertConsoleMessage(db, {
        channel,
        author: SYSTEM_ACTOR,
        ...message,
        visibleTo: user,
      });
      return { channel, id: String(row.id) };
    },
    async openModal(trigger, view) {
      // A trigger nobody waits for any more (its request was answered) opens nothing, as in Slack.
      pending.get(trigger)?.push(view);
    },
    async showHome(user, view) {
      await setConsoleHome(db, user, view);
    },
    async upload(to, file, options) {
      const channel = consoleChannelOf(to);
      const image = `data:${file.mimeType};base64,${file.content.toString('base64')}`;
      const row = await insertConsoleMessage(db, {
        channel,
        author: SYSTEM_ACTOR,
        text: options?.comment ?? file.title,
        blocks: [
          ...(options?.comment ? [{ type: 'section', text: { type: 'mrkdwn', text: options.comment } }] : []),
          {
            type: 'image',
            image_url: image,
            alt_text: file.altText ?? file.title,
            title: { type: 'plain_text', text: file.title },
          },
        ],
        ...(options?.thread ? { thread: idOf({ id: options.thread }) } : {}),
      });
      return { channel, id: String(row.id) };
    },
    async collect(trigger, fn) {
      const views: ModalView[] = [];
      pending.set(trigger, views);
      try {
        await fn();
      } finally {
        pending.delete(trigger);
      }
      return views;
    },
  };
}

/**
 * The console's channel for a channel a spec names: a Slack channel id (`C0123ABCD`) has no
 * console counterpart, so its runs are followed in the default channel.
 */
function consoleChannelOf(channel: string): string {
  return channel.startsWith('#') || channel.startsWith('dm:') ? channel : DEFAULT_CHANNEL;
}
