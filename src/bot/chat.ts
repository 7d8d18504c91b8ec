import type { KnownBlock, View } from '@slack/types';
import type { Logger as SlackLogger, WebClient, WebClientOptions } from '@slack/web-api';

export type ChatMessage = { text: string; blocks?: KnownBlock[] };

/**
 * Everything Steward says in chat goes through this port. The Slack adapter is Bolt's Web
 * API client; the memory adapter records calls for tests.
 */
export type ChatPort = {
  post(channel: string, message: ChatMessage, thread?: string): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: ChatMessage): Promise<void>;
  postEphemeral(channel: string, user: string, message: ChatMessage): Promise<void>;
  openView(triggerId: string, view: View): Promise<void>;
  publishHome(user: string, view: View): Promise<void>;
};

/**
 * A Slack Web API call that fails is retried this many times, waiting 0.5 s then 1 s. The
 * client's default (ten retries over about 30 minutes, and no timeout at all) would hold a
 * listener, a drain pass or a delivery for that long when Slack hangs or answers 5xx.
 */
export const SLACK_RETRIES = { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2000 } as const;

/** @default 10 s */
export const SLACK_TIMEOUT_MS = 10_000;

/**
 * Options for every WebClient Steward makes (Bolt's included): a timeout per attempt and
 * bounded retries, so a call fails within about `timeoutMs × 3 + 1.5 s`.
 */
export function webClientOptions(
  options: { apiUrl?: string; timeoutMs?: number; logger?: SlackLogger } = {},
): WebClientOptions {
  return {
    timeout: options.timeoutMs ?? SLACK_TIMEOUT_MS,
    retryConfig: { ...SLACK_RETRIES },
    ...(options.apiUrl ? { slackApiUrl: options.apiUrl } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  };
}

export function createSlackChat(client: WebClient): ChatPort {
  return {
    async post(channel, message, thread) {
      const result = await client.chat.postMessage({
        channel,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
        ...(thread ? { thread_ts: thread } : {}),
        unfurl_links: false,
      });
      if (!result.ts) throw new Error(`chat.postMessage to ${channel} returned no ts`);
      return { channel: result.channel ?? channel, ts: result.ts };
    },
    async update(channel, ts, message) {
      await client.chat.update({
        channel,
        ts,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
    },
    async postEphemeral(channel, user, message) {
      await client.chat.postEphemeral({
        channel,
        user,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
    },
    async openView(triggerId, view) {
      await client.views.open({ trigger_id: triggerId, view });
    },
    async publishHome(user, view) {
      await client.views.publish({
        user_id: user,
        view: view as Parameters<WebClient['views']['publish']>[0]['view'],
      });
    },
  };
}
