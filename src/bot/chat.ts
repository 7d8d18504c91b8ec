import type { HomeView, KnownBlock, ModalView } from '@slack/types';
import type { ChatSurface } from '../db/chat-outbox.ts';

export type ChatMessage = { text: string; blocks?: KnownBlock[] };

/** Where a posted message is: its channel and its id there (Slack's `ts`, the console's row id). */
export type MessageRef = { channel: string; id: string };

/** A file posted in chat, such as a chart. */
export type ChatFile = {
  filename: string;
  content: Buffer;
  /** e.g. `image/png` */
  mimeType: string;
  title: string;
  /** What the file shows, for people who cannot see it. */
  altText?: string;
};

/**
 * Everything Steward says in chat goes through this port, whichever adapter is behind it:
 * Slack (`slack/chat.ts`, Bolt's Web API client), the local console (`console/chat.ts`,
 * rows in the database) or the in-memory fake (`chat-fake.ts`).
 */
export type ChatPort = {
  readonly surface: ChatSurface;
  post(channel: string, message: ChatMessage, options?: { thread?: string }): Promise<MessageRef>;
  update(ref: MessageRef, message: ChatMessage): Promise<MessageRef>;
  /** A message only `user` sees. */
  postEphemeral(channel: string, user: string, message: ChatMessage): Promise<MessageRef>;
  /** Opens a modal for the person whose click or command gave `trigger`. */
  openModal(trigger: string, view: ModalView): Promise<void>;
  /** Publishes `user`'s App Home. */
  showHome(user: string, view: HomeView): Promise<void>;
  upload(
    channel: string,
    file: ChatFile,
    options?: { thread?: string; comment?: string },
  ): Promise<MessageRef>;
};

/**
 * The chat service said no for good (a channel that does not exist, one the bot is not in):
 * trying again cannot help, so a delivery that meets it stops and says what to fix.
 */
export class ChatRefused extends Error {
  override readonly name = 'ChatRefused';
  /** Read by the delivery loop, which knows no adapter. */
  readonly permanent = true;
}
