import type { Logger as SlackLogger, WebClient, WebClientOptions } from '@slack/web-api';
import { type ChatPort, ChatRefused } from '../chat.ts';

/** Slack's answers that no retry changes, and what to do about each. */
const REFUSALS: Record<string, string> = {
  channel_not_found: "no such channel: check the spec's `channel:` (default #ml-ops)",
  not_in_channel: 'invite the bot there (/invite @steward)',
  is_archived: "the channel is archived: unarchive it or name another in the spec's `channel:`",
  restricted_action: 'the workspace does not let the bot post there',
  missing_scope:
    'the Slack app lacks a scope this needs (chat:write for messages, files:write for charts, chat:write.public for a channel it was not invited to): add it under OAuth & Permissions (slack/manifest.yaml lists them all) and reinstall the app',
};

/** A permanent refusal, as `/healthz` lists it: what Slack said, where, and what to do. */
export type SlackProblem = { code: string; channel: string; message: string; at: string };

/**
 * The refusals seen since start, one per code and channel: each is logged once, loudly,
 * and listed on `/healthz` until the process restarts, rather than once per message.
 */
export type SlackProblems = { report(problem: Omit<SlackProblem, 'at'>): void; list(): SlackProblem[] };

export function createSlackProblems(log: {
  error(message: string, fields?: Record<string, unknown>): void;
}): SlackProblems {
  const seen = new Map<string, SlackProblem>();
  return {
    report(problem) {
      const key = `${problem.code}:${problem.channel}`;
      if (seen.has(key)) return;
      seen.set(key, { ...problem, at: new Date().toISOString() });
      log.error('Slack refuses Steward; fix this in Slack, then restart to clear it from /healthz', problem);
    },
    list: () => [...seen.values()],
  };
}

/** Runs a Web API call, turning Slack's permanent refusals into `ChatRefused`. */
async function call<T>(channel: string, fn: () => Promise<T>, problems?: SlackProblems): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const data = (error as { data?: { error?: string; needed?: string } }).data;
    const code = data?.error;
    const hint = code ? REFUSALS[code] : undefined;
    if (hint && code) {
      const needed = code === 'missing_scope' && data?.needed ? ` (needs ${data.needed})` : '';
      const message = `Slack refused a message in ${channel} (${code}${needed}): ${hint}`;
      problems?.report({ code, channel, message });
      throw new ChatRefused(message, { cause: error });
    }
    throw error;
  }
}

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

/** The chat port on Slack's Web API. A message's id is its `ts`; a modal's trigger is Slack's `trigger_id`. */
export function createSlackChat(client: WebClient, problems?: SlackProblems): ChatPort {
  return {
    surface: 'slack',
    async post(channel, message, options) {
      const result = await call(
        channel,
        () =>
          client.chat.postMessage({
            channel,
            text: message.text,
            ...(message.blocks ? { blocks: message.blocks } : {}),
            ...(options?.thread ? { thread_ts: options.thread } : {}),
            unfurl_links: false,
          }),
        problems,
      );
      if (!result.ts) throw new Error(`chat.postMessage to ${channel} returned no ts`);
      return { channel: result.channel ?? channel, id: result.ts };
    },
    async update(ref, message) {
      const result = await call(
        ref.channel,
        () =>
          client.chat.update({
            channel: ref.channel,
            ts: ref.id,
            text: message.text,
            ...(message.blocks ? { blocks: message.blocks } : {}),
          }),
        problems,
      );
      return { channel: result.channel ?? ref.channel, id: result.ts ?? ref.id };
    },
    async postEphemeral(channel, user, message) {
      const result = await client.chat.postEphemeral({
        channel,
        user,
        text: message.text,
        ...(message.blocks ? { blocks: message.blocks } : {}),
      });
      return { channel, id: result.message_ts ?? '' };
    },
    async openModal(trigger, view) {
      await client.views.open({ trigger_id: trigger, view });
    },
    async showHome(user, view) {
      await client.views.publish({ user_id: user, view });
    },
    async upload(channel, file, options) {
      const upload = {
        channel_id: channel,
        file: file.content,
        filename: file.filename,
        title: file.title,
        ...(options?.comment ? { initial_comment: options.comment } : {}),
        ...(options?.thread ? { thread_ts: options.thread } : {}),
        ...(file.altText ? { alt_text: file.altText } : {}),
      } as Parameters<WebClient['filesUploadV2']>[0];
      const result = (await call(channel, () => client.filesUploadV2(upload), problems)) as {
        files?: { files?: { id?: string }[] }[];
      };
      return { channel, id: result.files?.[0]?.files?.[0]?.id ?? '' };
    },
  };
}
