import { App, type BlockAction, type ButtonAction, ExpressReceiver, LogLevel } from '@slack/bolt';
import express, { type Router } from 'express';
import { crashPoint } from '../crash-point.ts';
import type { Database } from '../db/client.ts';
import type { Logger } from '../log.ts';
import type { JobQueue } from '../workflows/jobs.ts';
import type { RoleService } from '../workflows/role-service.ts';
import { SYSTEM_ACTOR } from '../workflows/run-engine.ts';
import type { RunService } from '../workflows/run-service.ts';
import { createBoltLogger } from './bolt-logger.ts';
import { type ChatPort, createSlackChat, webClientOptions } from './chat.ts';
import { type ChatInboxOptions, createChatInbox } from './chat-inbox.ts';
import { isMutatingCommand } from './commands/grammar.ts';
import { isMutating } from './commands/intent.ts';
import type { IntentParser } from './commands/llm.ts';
import { createCommandExecutor } from './execute.ts';
import { createSlackRequestHandler, type SlackRequest, type SlackRequestKind } from './slack-requests.ts';
import { APPROVE_ACTION, parseRunButtonValue, REJECT_ACTION } from './views/approval-card.ts';
import { CONFIRM_ACTION, confirmCard, DISMISS_ACTION } from './views/confirm-card.ts';
import { homeView } from './views/home.ts';
import { refusal } from './views/lists.ts';
import {
  REJECT_CALLBACK_ID,
  REJECT_REASON_ACTION,
  REJECT_REASON_BLOCK,
  rejectModal,
} from './views/reject-modal.ts';
import { createWorkQueue } from './work-queue.ts';

export type SlackBotOptions = {
  botToken: string;
  /** HTTP mode: requests arrive on Steward's server at /slack/events, signed with this secret. */
  signingSecret?: string;
  /** Socket Mode: Slack's servers push events over a websocket (no public URL needed). */
  appToken?: string;
  /** Web API base URL, for tests and local fakes. */
  apiUrl?: string;
  /**
   * Timeout of one Web API attempt; with the bounded retries a call fails within about
   * three times this plus 1.5 s.
   * @default 10_000
   */
  apiTimeoutMs?: number;
  /** The chat inbox's claim length and drain interval (see createChatInbox). */
  inbox?: Omit<ChatInboxOptions, 'surface'>;
};

export type SlackBotDeps = {
  database: Database;
  service: RunService;
  roles: RoleService;
  jobs: JobQueue;
  intents: IntentParser;
  log: Logger;
};

export type SlackBot = {
  chat: ChatPort;
  /** HTTP mode's `/slack/events` route, for Steward's HTTP app to mount; undefined in Socket Mode. */
  http?: { router: Router; signingSecret: string };
  /** Starts Socket Mode (if used) and the chat inbox's drain passes. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * The Slack edge on Bolt. Every listener acks first and works after, so Slack hears back
 * in milliseconds; every action carries an idempotency key made of what Slack sends again
 * on a retry (action_ts, trigger, view id) and the user, so a retried or double click is
 * applied once. Who may do what is decided by the services when the action is applied.
 *
 * A request that changes something (a click, a modal submission, a mutating command) is
 * stored in the chat inbox before its ack, because Slack never sends an acknowledged
 * interaction again: if the process dies after the ack, a drain pass handles it later.
 * Read-only commands and conversation messages (which only propose) are acked at once.
 */
export function createSlackBot(options: SlackBotOptions, deps: SlackBotDeps): SlackBot {
  const { service, log } = deps;
  const boltLogger = createBoltLogger(log.child({ part: 'bolt' }));
  const router = express.Router();
  const receiver = options.appToken
    ? undefined
    : new ExpressReceiver({
        router,
        signingSecret: options.signingSecret ?? '',
        endpoints: '/slack/events',
        processBeforeResponse: false,
        logger: boltLogger,
        logLevel: LogLevel.WARN,
      });
  const app = new App({
    token: options.botToken,
    logger: boltLogger,
    logLevel: LogLevel.WARN,
    ...(receiver ? { receiver } : { socketMode: true, appToken: options.appToken }),
    clientOptions: webClientOptions({
      ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
      ...(options.apiTimeoutMs !== undefined ? { timeoutMs: options.apiTimeoutMs } : {}),
    }),
  });
  const chat = createSlackChat(app.client);
  const run = createCommandExecutor({ ...deps, chat });
  const pipelines = () => service.pipelines();
  const work = createWorkQueue(1, log);
  /** Work a listener does after its ack, queued so that new requests are acked first. */
  const later = (label: string, fn: () => Promise<unknown>) => work.push(label, fn);
  const handle = createSlackRequestHandler({ run, chat, pipelines });
  const inbox = createChatInbox(
    { database: deps.database, log, handle: (r) => handle(r.kind, r.payload, r.key) },
    { ...options.inbox, surface: 'slack' },
  );
  const crashAfterAck = crashPoint('slack.after-ack');

  /**
   * Stores a request that changes something, acks, then handles it. A retried delivery
   * (the same key) is acked and left to the first one.
   */
  async function durably<K extends SlackRequestKind>(
    ack: () => Promise<void>,
    kind: K,
    key: string,
    payload: SlackRequest<K>,
  ) {
    const stored = await inbox.record(kind, key, payload);
    await ack();
    if (crashAfterAck()) return;
    if (stored) later(kind, () => inbox.process(stored));
  }

  // We ack at once, so Slack retries an event only when our answer got lost on the way,
  // after the work started: handling it again would post twice.
  app.use(async ({ context, body, next }) => {
    if (context.retryNum && (body as { type?: string }).type === 'event_callback') {
      log.debug('ignoring a retried event', { retry: context.retryNum, reason: context.retryReason });
      return;
    }
    await next();
  });

  // Slack's user ids never collide with Steward's own, but a request naming it is refused all the same.
  app.use(async ({ body, ack, next }) => {
    if (slackUserOf(body) === SYSTEM_ACTOR) {
      log.warn('slack request refused: it names Steward itself as the user');
      await ack?.();
      return;
    }
    await next();
  });

  app.command('/mlops', async ({ command, ack }) => {
    const request = {
      text: command.text ?? '',
      slash: command.command,
      user: command.user_id,
      channel: command.channel_id,
    };
    const key = `slack:${command.trigger_id}`;
    if (isMutatingCommand(request.text)) return durably(ack, 'command', key, request);
    await ack();
    later('command', () => handle('command', request, key));
  });

  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, async ({ ack, body, action }) => {
    // action_ts is the same when Slack delivers a click again: the same key, applied once.
    const key = `slack:${action.action_ts}:${body.user.id}`;
    await durably(ack, 'approve', key, {
      ...(action.value !== undefined ? { value: action.value } : {}),
      user: body.user.id,
      channel: body.channel?.id ?? body.user.id,
    });
  });

  // Opening the modal changes nothing (and its trigger expires in 3 s): no need to store it.
  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, async ({ ack, body, action }) => {
    await ack();
    later('reject button', async () => {
      const value = parseRunButtonValue(action.value);
      if (!value) return;
      const channel = body.channel?.id;
      const ts = body.message?.ts;
      await chat.openView(
        body.trigger_id,
        rejectModal({ run: value.run, ...(channel ? { channel } : {}), ...(ts ? { ts } : {}) }),
      );
    });
  });

  app.view(REJECT_CALLBACK_ID, async ({ ack, body, view }) => {
    const reason = view.state.values[REJECT_REASON_BLOCK]?.[REJECT_REASON_ACTION]?.value ?? undefined;
    await durably(ack, 'reject', `slack:view:${view.id}`, {
      metadata: view.private_metadata,
      ...(reason ? { reason } : {}),
      user: body.user.id,
    });
  });

  app.action<BlockAction<ButtonAction>>(CONFIRM_ACTION, async ({ ack, body, action }) => {
    await durably(ack, 'confirm', `slack:${action.action_ts}:${body.user.id}`, {
      ...(action.value !== undefined ? { value: action.value } : {}),
      user: body.user.id,
      channel: body.channel?.id ?? body.user.id,
      ...(body.message?.ts ? { messageTs: body.message.ts } : {}),
    });
  });

  app.action<BlockAction<ButtonAction>>(DISMISS_ACTION, async ({ ack, body }) => {
    await ack();
    later('dismiss', async () => {
      const channel = body.channel?.id;
      if (channel && body.message?.ts)
        await chat.update(channel, body.message.ts, { text: 'Dismissed: nothing was done.' });
    });
  });

  /** Free text (mentions, DMs): the intent parser proposes; mutating intents wait for a click. */
  async function converse(text: string, user: string, channel: string, ts: string) {
    const parsed = await deps.intents(text, { pipelines: await pipelines() });
    if (parsed.fallbackReason) log.info('intent answered by rules', { reason: parsed.fallbackReason });
    if (!isMutating(parsed.intent)) {
      return run.intent(parsed.intent, { user, channel, key: `slack:msg:${channel}:${ts}` });
    }
    const card = confirmCard(parsed.intent, { heard: text });
    if (!card.ok) return chat.postEphemeral(channel, user, refusal(card.error));
    await chat.postEphemeral(channel, user, { text: card.text, blocks: card.blocks });
  }

  app.event('app_mention', async ({ event }) => {
    later('mention', async () => {
      if (!event.user) return;
      await converse(event.text, event.user, event.channel, event.ts);
    });
  });

  app.message(async ({ message }) => {
    later('message', async () => {
      if (
        message.channel_type !== 'im' ||
        message.subtype !== undefined ||
        !('user' in message) ||
        !message.user
      )
        return;
      await converse(message.text ?? '', message.user, message.channel, message.ts);
    });
  });

  app.event('app_home_opened', async ({ event }) => {
    later('home', async () => {
      if (event.tab !== 'home') return;
      const [waiting, runs, models] = await Promise.all([
        service.list({ states: ['awaitingApproval'], limit: 20 }),
        service.list({ limit: 10 }),
        service.models(),
      ]);
      const approvals = [];
      for (const r of waiting) {
        const role = await deps.roles.roleOn(event.user, r.pipeline);
        if (r.requestedBy !== event.user && (role === 'approver' || role === 'admin')) approvals.push(r);
      }
      await chat.publishHome(event.user, homeView({ viewer: event.user, approvals, runs, models }));
    });
  });

  app.error(async (error) => {
    log.error('slack listener failed', { error });
  });

  return {
    chat,
    ...(receiver ? { http: { router, signingSecret: options.signingSecret ?? '' } } : {}),
    async start() {
      if (!receiver) await app.start();
      inbox.start();
    },
    async stop() {
      if (!receiver) await app.stop();
      await inbox.stop();
      await work.drain();
    },
  };
}

/** The user a Slack request comes from, wherever its kind of payload puts it. */
function slackUserOf(body: unknown): string | undefined {
  const b = body as { user_id?: string; user?: { id?: string } | string; event?: { user?: string } };
  if (typeof b.user_id === 'string') return b.user_id;
  if (typeof b.user === 'object' && b.user?.id) return b.user.id;
  return b.event?.user;
}
