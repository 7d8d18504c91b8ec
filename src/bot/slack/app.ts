import {
  App,
  type BlockAction,
  type ButtonAction,
  ExpressReceiver,
  LogLevel,
  type SlackActionMiddlewareArgs,
} from '@slack/bolt';
import express, { type Router } from 'express';
import { crashPoint } from '../../crash-point.ts';
import { describeCredential } from '../../workflows/identity.ts';
import { SYSTEM_ACTOR } from '../../workflows/run-engine.ts';
import type { ChatPort } from '../chat.ts';
import { type ChatInboxOptions, createChatInbox } from '../chat-inbox.ts';
import { isMutatingCommand } from '../commands/grammar.ts';
import {
  BUTTON_ACTIONS,
  CHANGING_ACTIONS,
  type ChatCore,
  type ChatRequest,
  type ChatRequestKind,
  createChatHandlers,
} from '../handlers/index.ts';
import { DETAILS_LINK_ACTION } from '../views/links.ts';
import { REJECT_CALLBACK_ID } from '../views/reject-modal.ts';
import { createWorkQueue } from '../work-queue.ts';
import { createBoltLogger } from './bolt-logger.ts';
import { createSlackChat, createSlackProblems, type SlackProblem, webClientOptions } from './chat.ts';

/** What proves a Slack user's identity, as the audit trail keeps it. */
const SLACK_CREDENTIAL = describeCredential({ credential: 'slack' });

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

export type SlackBotDeps = ChatCore;

export type SlackBot = {
  chat: ChatPort;
  /** HTTP mode's `/slack/events` route, for Steward's HTTP app to mount; undefined in Socket Mode. */
  http?: { router: Router; signingSecret: string };
  /** Slack's permanent refusals since start (a missing scope, a channel the bot is not in), for /healthz. */
  problems(): SlackProblem[];
  /** Starts Socket Mode (if used) and the chat inbox's drain passes. */
  start(): Promise<void>;
  stop(): Promise<void>;
};

/**
 * The Slack adapter on Bolt: listeners only translate Slack's payloads into chat requests
 * for the adapter-neutral handlers (`../handlers/`). Every listener acks first and works after, so Slack hears back
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
  const { log } = deps;
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
  const problems = createSlackProblems(log);
  const chat = createSlackChat(app.client, problems);
  const handlers = createChatHandlers(deps, chat);
  const work = createWorkQueue(1, log);
  /** Work a listener does after its ack, queued so that new requests are acked first. */
  const later = <K extends ChatRequestKind>(kind: K, request: ChatRequest<K>, key: string) =>
    work.push(kind, () => handlers.handle(kind, request, { key, credential: SLACK_CREDENTIAL }));
  const inbox = createChatInbox(
    {
      database: deps.database,
      log,
      handle: (r) => handlers.handle(r.kind, r.payload, { key: r.key, credential: SLACK_CREDENTIAL }),
    },
    { ...options.inbox, surface: 'slack' },
  );
  const crashAfterAck = crashPoint('slack.after-ack');

  /**
   * Stores a request that changes something, acks, then handles it. A retried delivery
   * (the same key) is acked and left to the first one.
   */
  async function durably<K extends ChatRequestKind>(
    ack: () => Promise<void>,
    kind: K,
    key: string,
    payload: ChatRequest<K>,
  ) {
    const stored = await inbox.record(kind, key, payload);
    await ack();
    if (crashAfterAck()) return;
    if (stored) work.push(kind, () => inbox.process(stored));
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
    later('command', request, key);
  });

  // Every button of Steward's: Approve and Confirm change something and are stored before
  // the ack; Reject opens a modal (its trigger expires in 3 s) and Dismiss redraws a card.
  const onButton = async ({
    ack,
    body,
    action,
  }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>>): Promise<void> => {
    const request: ChatRequest<'action'> = {
      action: action.action_id,
      ...(action.value !== undefined ? { value: action.value } : {}),
      user: body.user.id,
      channel: body.channel?.id ?? body.user.id,
      ...(body.channel?.id && body.message?.ts
        ? { message: { channel: body.channel.id, id: body.message.ts } }
        : {}),
      trigger: body.trigger_id,
    };
    // action_ts is the same when Slack delivers a click again: the same key, applied once.
    const key = `slack:${action.action_ts}:${body.user.id}`;
    if (CHANGING_ACTIONS.has(action.action_id)) return durably(ack, 'action', key, request);
    await ack();
    later('action', request, key);
  };
  for (const id of BUTTON_ACTIONS) app.action<BlockAction<ButtonAction>>(id, onButton);
  // A [Details] link opens its page in the browser; Slack still reports the click, which needs an ack.
  app.action(DETAILS_LINK_ACTION, async ({ ack }) => {
    await ack();
  });

  app.view(REJECT_CALLBACK_ID, async ({ ack, body, view }) => {
    const values: ChatRequest<'view'>['values'] = {};
    for (const [block, actions] of Object.entries(view.state.values)) {
      values[block] = {};
      for (const [id, state] of Object.entries(actions)) values[block][id] = { value: state.value ?? null };
    }
    await durably(ack, 'view', `slack:view:${view.id}`, {
      callback: view.callback_id,
      metadata: view.private_metadata,
      values,
      user: body.user.id,
    });
  });

  app.event('app_mention', async ({ event }) => {
    if (!event.user) return;
    const request = { text: event.text, user: event.user, channel: event.channel, id: event.ts };
    later('message', request, `slack:msg:${event.channel}:${event.ts}`);
  });

  app.message(async ({ message }) => {
    if (
      message.channel_type !== 'im' ||
      message.subtype !== undefined ||
      !('user' in message) ||
      !message.user
    )
      return;
    const request = {
      text: message.text ?? '',
      user: message.user,
      channel: message.channel,
      id: message.ts,
    };
    later('message', request, `slack:msg:${message.channel}:${message.ts}`);
  });

  app.event('app_home_opened', async ({ event }) => {
    if (event.tab === 'home') later('home', { user: event.user }, `slack:home:${event.user}`);
  });

  app.error(async (error) => {
    log.error('slack listener failed', { error });
  });

  return {
    chat,
    problems: () => problems.list(),
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
