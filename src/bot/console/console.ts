import type { ModalView } from '@slack/types';
import { z } from 'zod';
import type { Database } from '../../db/client.ts';
import {
  consoleChannels,
  consoleHome,
  consoleMessage,
  consoleMessagesFor,
  insertConsoleMessage,
} from '../../db/console-repo.ts';
import { DEFAULT_CHANNEL, grantRole } from '../../db/runs-repo.ts';
import { StewardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { SYSTEM_ACTOR } from '../../workflows/run-engine.ts';
import { type ChatCore, createChatHandlers } from '../handlers/index.ts';
import {
  parseRejectMetadata,
  REJECT_CALLBACK_ID,
  REJECT_REASON_ACTION,
  REJECT_REASON_BLOCK,
  REJECT_REASON_MAX,
} from '../views/reject-modal.ts';
import { createConsoleChat } from './chat.ts';
import { type ConsoleLive, createConsoleLive } from './live.ts';
import { type ConsoleMessage, canSee, dmChannel, toConsoleMessage } from './messages.ts';

/** `STEWARD_CONSOLE`: `demo` adds the person switcher. */
export type ConsoleMode = 'off' | 'on' | 'demo';

/**
 * The people one person can play in the demo console, and the role each is granted. The
 * fourth, the admin, is the signed-in person themself.
 */
export const PERSONAS = [
  { id: 'ana', label: 'Ana', role: 'requester', grant: 'operator' },
  { id: 'ben', label: 'Ben', role: 'approver', grant: 'approver' },
  { id: 'vic', label: 'Vic', role: 'viewer', grant: 'viewer' },
] as const;

/** The channels every console lists, whether or not they have messages yet. */
export const CONSOLE_CHANNELS = [DEFAULT_CHANNEL, '#ml-alerts'] as const;

/** Messages a console loads at first; older ones are not shown. */
const HISTORY = 500;

/** Who the console acts as for one request: the signed-in principal, or their chosen persona. */
export type ConsoleActor = {
  /** The signed-in person (the session's user). */
  user: string;
  /** Who the console acts as: `user`, or a persona. */
  acting: string;
  /** What proved it, as the audit trail keeps it. */
  credential: string;
  /** Whether `user` may use the person switcher. */
  canSwitch: boolean;
};

const Say = z.object({
  channel: z.string().min(1).max(100),
  text: z.string().trim().min(1, 'type something to send').max(4000, 'a message is at most 4000 characters'),
  thread: z.string().regex(/^\d+$/).optional(),
  /** The page's id for this message; sending it again (after a lost answer) applies it once. */
  send: z.string().min(8).max(100).optional(),
});
const Act = z.object({
  action_id: z.string().min(1).max(255),
  value: z.string().max(2000).optional(),
  message: z.object({ channel: z.string(), id: z.string().regex(/^\d+$/) }).optional(),
  click: z.string().min(8).max(100),
});
const Submit = z.object({
  callback_id: z.string().min(1).max(255),
  private_metadata: z.string().max(3000),
  values: z.record(z.string(), z.record(z.string(), z.object({ value: z.string().nullish() }))),
  submit: z.string().min(8).max(100),
});

export type ConsoleDeps = ChatCore & { mode: Exclude<ConsoleMode, 'off'> };

export type Console = {
  readonly switcher: boolean;
  live: ConsoleLive;
  /** The console's chat port, for its notifier. */
  chat: ReturnType<typeof createConsoleChat>;
  state(actor: ConsoleActor): Promise<ConsoleState>;
  say(actor: ConsoleActor, body: unknown): Promise<void>;
  act(actor: ConsoleActor, body: unknown): Promise<{ modal?: ModalView }>;
  submit(actor: ConsoleActor, body: unknown): Promise<void>;
  /** Checks that `actor` may play `persona`, and returns whom the console then acts as (null: themself). */
  persona(actor: ConsoleActor, persona: unknown): string | null;
  start(): Promise<void>;
  stop(): Promise<void>;
};

export type ConsoleState = {
  me: { user: string; acting: string };
  personas: { id: string; label: string; role: string; grant: string }[] | null;
  channels: { id: string; name: string; kind: 'channel' | 'dm' }[];
  messages: ConsoleMessage[];
  home: unknown;
};

/** A refusal of a console request body, naming the field to fix. */
function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new StewardError('BAD_REQUEST', `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
}

/**
 * The console adapter: translates the console page's requests into chat requests for the
 * adapter-neutral handlers, answered through the console's chat port. Requests are
 * handled while the page waits (it needs no 3-second ack), so a request that fails is
 * answered with its error; the page sends a message again with the same `send` id, which
 * the handlers apply once.
 */
export function createConsole(deps: ConsoleDeps & { log: Logger }): Console {
  const { database } = deps;
  const chat = createConsoleChat({ database });
  const handlers = createChatHandlers(deps, chat);
  const live = createConsoleLive({ database, log: deps.log.child({ part: 'console' }) });
  const switcher = deps.mode === 'demo';
  const meta = (actor: ConsoleActor, key: string) => ({ key, credential: actor.credential });

  return {
    switcher,
    live,
    chat,
    async state(actor) {
      await handlers.home({ user: actor.acting }, meta(actor, `console:home:${actor.acting}`));
      const [messages, channels, home] = await Promise.all([
        consoleMessagesFor(database.db, actor.acting, HISTORY),
        consoleChannels(database.db),
        consoleHome(database.db, actor.acting),
      ]);
      const names = [...new Set([...CONSOLE_CHANNELS, ...channels])];
      return {
        me: { user: actor.user, acting: actor.acting },
        personas:
          switcher && actor.canSwitch
            ? [...PERSONAS, { id: actor.user, label: 'You', role: 'admin', grant: 'admin' }]
            : null,
        channels: [
          ...names.map((id) => ({ id, name: id.replace(/^#/, ''), kind: 'channel' as const })),
          { id: dmChannel(actor.acting), name: 'Steward', kind: 'dm' as const },
        ],
        messages: messages.map(toConsoleMessage),
        home,
      };
    },
    async say(actor, body) {
      const { channel, text, thread, send } = parse(Say, body);
      if (!maySay(actor, channel)) {
        throw new StewardError(
          'FORBIDDEN',
          `you can write in channels and in your own direct messages, not in ${channel}`,
        );
      }
      if (thread) await checkThread(database, actor, channel, Number(thread));
      const said = await insertConsoleMessage(database.db, {
        channel,
        author: actor.acting,
        text,
        ...(thread ? { thread: Number(thread) } : {}),
      });
      const key = send ? `console:say:${send}:${actor.acting}` : `console:${said.id}`;
      const slash = /^\/(\S+)\s*([\s\S]*)$/.exec(text);
      if (!slash) {
        const request = { text, user: actor.acting, channel, id: String(said.id) };
        return handlers.message(request, meta(actor, key));
      }
      if (slash[1] !== 'mlops') {
        await chat.postEphemeral(channel, actor.acting, {
          text: `\`/${slash[1]}\` is not a command here; Steward’s commands start with \`/mlops\` (try \`/mlops help\`).`,
        });
        return;
      }
      const request = { text: slash[2] ?? '', slash: '/mlops', user: actor.acting, channel };
      await handlers.command(request, meta(actor, key));
    },
    async act(actor, body) {
      const request = parse(Act, body);
      // The message the button is on, only when it is one of Steward's that this person sees
      // and that is theirs alone or carries this very button: the page says which message,
      // so a click could otherwise redraw anyone's message (Slack signs its payloads; the
      // page's are not). A private card keeps counting once it was redrawn, so a second
      // press of its Confirm has the same key as the first.
      const row = request.message ? await consoleMessage(database.db, Number(request.message.id)) : undefined;
      const on =
        row &&
        row.author === SYSTEM_ACTOR &&
        canSee(actor.acting, row) &&
        (row.visibleTo === actor.acting || hasButton(row.blocks, request))
          ? { channel: row.channel, id: String(row.id) }
          : undefined;
      const trigger = `console:${request.click}`;
      const modals = await chat.collect(trigger, () =>
        handlers.action(
          {
            action: request.action_id,
            ...(request.value !== undefined ? { value: request.value } : {}),
            user: actor.acting,
            channel: on?.channel ?? dmChannel(actor.acting),
            ...(on ? { message: on } : {}),
            trigger,
          },
          meta(actor, `console:${request.click}:${actor.acting}`),
        ),
      );
      return modals[0] ? { modal: modals[0] } : {};
    },
    async submit(actor, body) {
      const request = parse(Submit, body);
      if (request.callback_id === REJECT_CALLBACK_ID) {
        const reason = request.values[REJECT_REASON_BLOCK]?.[REJECT_REASON_ACTION]?.value?.trim() ?? '';
        if (!reason || reason.length > REJECT_REASON_MAX) {
          throw new ViewErrors({
            [REJECT_REASON_BLOCK]: reason
              ? `at most ${REJECT_REASON_MAX} characters`
              : 'say why, so the requester knows what to change',
          });
        }
      }
      // The page sends the modal's metadata back (Slack keeps it on its side): a channel in it
      // that this person may not write in is dropped, and the answer goes to their own DM.
      const metadata = parseRejectMetadata(request.private_metadata);
      if (metadata?.channel && !maySay(actor, metadata.channel)) delete metadata.channel;
      await handlers.view(
        {
          callback: request.callback_id,
          metadata: metadata ? JSON.stringify(metadata) : request.private_metadata,
          values: request.values,
          user: actor.acting,
          channel: dmChannel(actor.acting),
        },
        meta(actor, `console:view:${request.submit}:${actor.acting}`),
      );
    },
    persona(actor, persona) {
      if (!switcher || !actor.canSwitch) {
        throw new StewardError(
          'FORBIDDEN',
          switcher
            ? 'only an admin can play the demo team; you act as yourself'
            : 'the person switcher is off: the console acts as the signed-in person (STEWARD_CONSOLE=demo turns it on)',
        );
      }
      const id = parse(z.string().min(1, 'name a persona'), persona);
      if (id === actor.user) return null;
      if (!PERSONAS.some((p) => p.id === id)) {
        throw new StewardError(
          'BAD_REQUEST',
          `no such persona ${id}; choose one of ${PERSONAS.map((p) => p.id).join(', ')}`,
        );
      }
      return id;
    },
    async start() {
      if (switcher && database.kind === 'postgres') {
        deps.log.warn(
          'STEWARD_CONSOLE=demo on PostgreSQL: the demo team (ana, ben, vic) gets global roles here; use it for demos only',
        );
      }
      if (switcher) await grantPersonas(database);
      await live.start();
    },
    stop: () => live.stop(),
  };
}

/** A modal's inputs that need fixing, by block id; the console shows each next to its input. */
export class ViewErrors extends StewardError {
  readonly errors: Record<string, string>;
  constructor(errors: Record<string, string>) {
    super('BAD_REQUEST', Object.values(errors).join('; '));
    this.errors = errors;
  }
}

/** The demo team's grants; a grant someone changed since is left as it is. */
async function grantPersonas(database: Database): Promise<void> {
  for (const p of PERSONAS) {
    await grantRole(
      database.db,
      { userId: p.id, role: p.grant, grantedBy: 'console demo' },
      { ifAbsent: true },
    );
  }
}

/** A reply goes under a root message the person sees, in the channel they write in. */
async function checkThread(
  database: Database,
  actor: ConsoleActor,
  channel: string,
  id: number,
): Promise<void> {
  const root = await consoleMessage(database.db, id);
  if (!root || !canSee(actor.acting, root) || root.channel !== channel || root.thread !== null) {
    throw new StewardError(
      'BAD_REQUEST',
      `message ${id} is not a thread in ${channel}; reply to a message there`,
    );
  }
}

/** Channels a person may write in: every `#channel`, and their own direct messages. */
const maySay = (actor: ConsoleActor, channel: string) =>
  /^#[a-z0-9][a-z0-9_-]{0,79}$/.test(channel) || channel === dmChannel(actor.acting);

/** Whether `blocks` hold a button with this action id and value (what the page says it pressed). */
function hasButton(blocks: unknown, pressed: { action_id: string; value?: string | undefined }): boolean {
  if (!Array.isArray(blocks)) return false;
  return blocks.some((block: { elements?: unknown; accessory?: unknown }) =>
    [...(Array.isArray(block.elements) ? block.elements : []), block.accessory].some(
      (e) =>
        typeof e === 'object' &&
        e !== null &&
        (e as { type?: string }).type === 'button' &&
        (e as { action_id?: string }).action_id === pressed.action_id &&
        ((e as { value?: string }).value ?? '') === (pressed.value ?? ''),
    ),
  );
}
