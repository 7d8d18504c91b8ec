import type { HomeView, ModalView } from '@slack/types';
import type { ChatSurface } from '../db/chat-outbox.ts';
import type { ChatFile, ChatMessage, ChatPort, MessageRef } from './chat.ts';

/** One call the fake received, in order. */
export type FakeChatCall =
  | { method: 'post'; channel: string; message: ChatMessage; thread?: string; ref: MessageRef }
  | { method: 'update'; ref: MessageRef; message: ChatMessage }
  | { method: 'postEphemeral'; channel: string; user: string; message: ChatMessage; ref: MessageRef }
  | { method: 'openModal'; trigger: string; view: ModalView }
  | { method: 'showHome'; user: string; view: HomeView }
  | { method: 'upload'; channel: string; file: ChatFile; thread?: string; ref: MessageRef };

export type FakeChat = ChatPort & {
  readonly calls: FakeChatCall[];
  /** Every message as it reads now (updates applied), by id. */
  readonly messages: Map<string, { channel: string; message: ChatMessage; thread?: string; user?: string }>;
  /** Makes the next calls fail with `error` until it is set back to undefined. */
  failWith: Error | undefined;
};

/** A chat port that keeps everything in memory, for tests of the handlers and views. */
export function createFakeChat(surface: ChatSurface = 'slack'): FakeChat {
  const calls: FakeChatCall[] = [];
  const messages: FakeChat['messages'] = new Map();
  let next = 1;
  const fake: FakeChat = {
    surface,
    calls,
    messages,
    failWith: undefined,
    async post(channel, message, options) {
      check();
      const ref = { channel, id: String(next++) };
      messages.set(ref.id, { channel, message, ...(options?.thread ? { thread: options.thread } : {}) });
      calls.push({
        method: 'post',
        channel,
        message,
        ...(options?.thread ? { thread: options.thread } : {}),
        ref,
      });
      return ref;
    },
    async update(ref, message) {
      check();
      const existing = messages.get(ref.id);
      if (!existing) throw new Error(`message ${ref.id} not found`);
      existing.message = message;
      calls.push({ method: 'update', ref, message });
      return ref;
    },
    async postEphemeral(channel, user, message) {
      check();
      const ref = { channel, id: String(next++) };
      messages.set(ref.id, { channel, message, user });
      calls.push({ method: 'postEphemeral', channel, user, message, ref });
      return ref;
    },
    async openModal(trigger, view) {
      check();
      calls.push({ method: 'openModal', trigger, view });
    },
    async showHome(user, view) {
      check();
      calls.push({ method: 'showHome', user, view });
    },
    async upload(channel, file, options) {
      check();
      const ref = { channel, id: String(next++) };
      messages.set(ref.id, { channel, message: { text: options?.comment ?? file.title } });
      calls.push({
        method: 'upload',
        channel,
        file,
        ...(options?.thread ? { thread: options.thread } : {}),
        ref,
      });
      return ref;
    },
  };
  function check() {
    if (fake.failWith) throw fake.failWith;
  }
  return fake;
}
