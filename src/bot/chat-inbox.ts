import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { withoutQueryText } from '../db/database-error.ts';
import { chatInbox } from '../db/schema.ts';
import type { Logger } from '../log.ts';

/** A stored chat request, as a handler receives it. */
export type InboxRequest = { id: number; kind: string; key: string; payload: unknown; attempts: number };

export type ChatInboxOptions = {
  /** Which chat surface's requests these are. */
  surface: string;
  /**
   * How long a claim on a request lasts. A request still pending when its claim runs out
   * (its process died, or its handling hangs) is handled again by a drain pass; handling
   * twice is safe because the engine applies an idempotency key once.
   * @default 30_000
   */
  claimMs?: number;
  /** How often a drain pass looks for requests whose claim ran out. @default 2_000 */
  pollMs?: number;
  /** Attempts before a request is marked `failed` (and logged as an error). @default 5 */
  maxAttempts?: number;
};

export type ChatInbox = {
  /**
   * Stores a request, claimed for this process, before the chat is acknowledged. Undefined
   * when a request with the same key was stored already (a retried delivery): its first
   * delivery handles it.
   */
  record(kind: string, key: string, payload: unknown): Promise<InboxRequest | undefined>;
  /** Handles a claimed request and records the outcome on its row. Never throws. */
  process(request: InboxRequest): Promise<void>;
  /** One drain pass: claims pending requests whose claim ran out and handles them; returns how many. */
  tick(): Promise<number>;
  /** Starts drain passes every `pollMs`. */
  start(): void;
  /** Stops the drain passes, waiting for the one under way. */
  stop(): Promise<void>;
};

/** Requests one drain pass handles at most; each is claimed just before it is handled. */
const BATCH = 20;
/** Handled requests are kept this long (for a look at what happened), then deleted. */
const KEEP_DONE = sql`now() - interval '7 days'`;

/**
 * The chat inbox (`chat_inbox`): requests that change something are stored before Slack is
 * acknowledged, handled at once in this process, and marked done. Slack does not send an
 * acknowledged interaction again, so a crash between the ack and the handling would lose
 * it; with the row stored first, a drain pass here or in another process picks it up.
 */
export function createChatInbox(
  {
    database,
    log,
    handle,
  }: { database: Database; log: Logger; handle: (request: InboxRequest) => Promise<void> },
  options: ChatInboxOptions,
): ChatInbox {
  const { db } = database;
  const { surface } = options;
  const claimMs = Math.max(1, Math.round(options.claimMs ?? 30_000));
  const pollMs = options.pollMs ?? 2_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const claimUntil = sql`now() + ${claimMs}::int * interval '1 millisecond'`;
  const columns = {
    id: chatInbox.id,
    kind: chatInbox.kind,
    key: chatInbox.idempotencyKey,
    payload: chatInbox.payload,
    attempts: chatInbox.attempts,
  };

  async function process(request: InboxRequest): Promise<void> {
    try {
      await handle(request);
      await db
        .update(chatInbox)
        .set({ status: 'done', doneAt: sql`now()`, claimedUntil: null, error: null })
        .where(and(eq(chatInbox.id, request.id), eq(chatInbox.status, 'pending')));
    } catch (error) {
      const message = withoutQueryText((error as Error).stack ?? String(error));
      const last = request.attempts >= maxAttempts;
      // Back off 2, 4, 8 … s (at most a minute) before the next pass may take it again.
      const backoffMs = Math.min(60_000, 1000 * 2 ** request.attempts);
      await db
        .update(chatInbox)
        .set({
          error: message,
          ...(last
            ? { status: 'failed', claimedUntil: null }
            : { claimedUntil: sql`now() + ${backoffMs}::int * interval '1 millisecond'` }),
        })
        .where(and(eq(chatInbox.id, request.id), eq(chatInbox.status, 'pending')))
        .catch((e: Error) => log.warn('could not record a chat request failure', { error: e }));
      if (last)
        log.error('chat request failed; giving up', {
          kind: request.kind,
          key: request.key,
          attempts: request.attempts,
          error: message,
        });
      else
        log.warn('chat request failed; will retry', { kind: request.kind, key: request.key, error: message });
    }
  }

  /** Claims the oldest pending request whose claim ran out, if any. */
  async function claimOne(): Promise<InboxRequest | undefined> {
    const due = db
      .select({ id: chatInbox.id })
      .from(chatInbox)
      .where(
        and(
          eq(chatInbox.surface, surface),
          eq(chatInbox.status, 'pending'),
          or(isNull(chatInbox.claimedUntil), lt(chatInbox.claimedUntil, sql`now()`)),
        ),
      )
      .orderBy(chatInbox.id)
      .limit(1)
      .for('update', { skipLocked: true });
    const [claimed] = await db
      .update(chatInbox)
      .set({ attempts: sql`${chatInbox.attempts} + 1`, claimedUntil: claimUntil })
      .where(inArray(chatInbox.id, due))
      .returning(columns);
    return claimed;
  }

  async function tick(): Promise<number> {
    let handled = 0;
    // One at a time: a claim is taken just before its request is handled, so a slow handler
    // never lets the claims of requests waiting behind it run out.
    for (let request = await claimOne(); request; request = handled < BATCH ? await claimOne() : undefined) {
      log.info('handling a stored chat request', {
        kind: request.kind,
        key: request.key,
        attempt: request.attempts,
      });
      await process(request);
      handled++;
    }
    await db.delete(chatInbox).where(and(eq(chatInbox.status, 'done'), lt(chatInbox.doneAt, KEEP_DONE)));
    return handled;
  }

  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let stopped = true;
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: Error) => log.warn('chat inbox pass failed', { error }))
        .finally(schedule);
    }, pollMs);
    timer.unref();
  };

  return {
    async record(kind, key, payload) {
      const rows = await db
        .insert(chatInbox)
        .values({ surface, kind, idempotencyKey: key, payload, attempts: 1, claimedUntil: claimUntil })
        .onConflictDoNothing()
        .returning(columns);
      return rows[0];
    },
    process,
    tick,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
