import { z } from 'zod';
import type { ChatPort } from './chat.ts';
import { hasIntent, parseCommand, toIntent } from './commands/grammar.ts';
import type { CommandExecutor } from './execute.ts';
import { parseRunButtonValue } from './views/approval-card.ts';
import { parseIntentValue } from './views/confirm-card.ts';
import { refusal } from './views/lists.ts';
import { parseRejectMetadata } from './views/reject-modal.ts';

/**
 * What a Slack request needs to be handled later, from the chat inbox: the fields the
 * listener read from Slack's payload, nothing else. Stored as JSON, parsed again on the way
 * out (a row may have been written by an older Steward).
 */
export const SlackRequests = {
  /** `/mlops <text>`. */
  command: z.object({ text: z.string(), slash: z.string(), user: z.string(), channel: z.string() }),
  /** The Approve button on an approval card. */
  approve: z.object({ value: z.string().optional(), user: z.string(), channel: z.string() }),
  /** The reject modal, submitted. */
  reject: z.object({ metadata: z.string(), reason: z.string().optional(), user: z.string() }),
  /** Confirm on a confirmation card (an intent read from free text). */
  confirm: z.object({
    value: z.string().optional(),
    user: z.string(),
    channel: z.string(),
    messageTs: z.string().optional(),
  }),
} as const;
export type SlackRequestKind = keyof typeof SlackRequests;
export type SlackRequest<K extends SlackRequestKind> = z.infer<(typeof SlackRequests)[K]>;

export type SlackRequestHandler = (kind: string, payload: unknown, key: string) => Promise<void>;

/**
 * Carries out a stored Slack request. Refusals (a bad button, no role, a run in the wrong
 * state) and unexpected errors of the services are answered privately by the executor and
 * count as handled; a Slack call that fails throws, and the inbox tries again.
 */
export function createSlackRequestHandler({
  run,
  chat,
  pipelines,
}: {
  run: CommandExecutor;
  chat: ChatPort;
  pipelines: () => Promise<string[]>;
}): SlackRequestHandler {
  const handlers: { [K in SlackRequestKind]: (request: SlackRequest<K>, key: string) => Promise<void> } = {
    async command(request, key) {
      const ctx = { user: request.user, channel: request.channel, key };
      const parsed = parseCommand(request.text, { pipelines: await pipelines(), slash: request.slash });
      if (!parsed.ok) return chat.postEphemeral(ctx.channel, ctx.user, refusal(parsed.error));
      if (hasIntent(parsed.command)) return run.intent(toIntent(parsed.command), ctx);
      return run.admin(parsed.command, ctx);
    },
    async approve(request, key) {
      const value = parseRunButtonValue(request.value);
      if (!value)
        return chat.postEphemeral(
          request.channel,
          request.user,
          refusal('That button is not one of Steward’s.'),
        );
      await run.intent(
        { intent: 'approve', run: value.run },
        { user: request.user, channel: request.channel, key },
      );
    },
    async reject(request, key) {
      const meta = parseRejectMetadata(request.metadata);
      if (!meta) return;
      await run.intent(
        { intent: 'reject', run: meta.run, ...(request.reason ? { reason: request.reason } : {}) },
        { user: request.user, channel: meta.channel ?? request.user, key },
      );
    },
    async confirm(request, key) {
      const intent = parseIntentValue(request.value);
      if (!intent)
        return chat.postEphemeral(
          request.channel,
          request.user,
          refusal('That confirmation has expired; ask again.'),
        );
      if (request.messageTs)
        await chat.update(request.channel, request.messageTs, { text: `Confirmed by <@${request.user}>.` });
      await run.intent(intent, { user: request.user, channel: request.channel, key });
    },
  };

  return async (kind, payload, key) => {
    if (!(kind in SlackRequests)) throw new Error(`unknown Slack request kind ${kind}`);
    const k = kind as SlackRequestKind;
    const request = SlackRequests[k].parse(payload);
    await (handlers[k] as (r: typeof request, key: string) => Promise<void>)(request, key);
  };
}
