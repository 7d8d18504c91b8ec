import { and, asc, desc, eq, isNull, or, sql } from 'drizzle-orm';
import type { Queryable } from './client.ts';
import { consoleHomes, consoleMessages } from './schema.ts';

/** The channel the console's notifications go out on (LISTEN/NOTIFY), to every process. */
export const CONSOLE_CHANNEL = 'steward_console';

/** What a notification says changed; processes read the row itself. */
export type ConsoleChange = { kind: 'message'; id: number } | { kind: 'home'; user: string };

export type ConsoleMessageRow = typeof consoleMessages.$inferSelect;

async function notify(tx: Queryable, change: ConsoleChange): Promise<void> {
  await tx.execute(sql`select pg_notify(${CONSOLE_CHANNEL}, ${JSON.stringify(change)})`);
}

/** Adds a message and tells every process, in one transaction (the notification goes out on commit). */
export async function insertConsoleMessage(
  db: Queryable,
  message: {
    channel: string;
    author: string;
    text: string;
    blocks?: unknown;
    thread?: number;
    visibleTo?: string;
  },
): Promise<ConsoleMessageRow> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(consoleMessages)
      .values({
        channel: message.channel,
        author: message.author,
        text: message.text,
        blocks: message.blocks ?? null,
        thread: message.thread ?? null,
        visibleTo: message.visibleTo ?? null,
      })
      .returning();
    if (!row) throw new Error('insert into console_messages returned nothing');
    await notify(tx, { kind: 'message', id: row.id });
    return row;
  });
}

/** Replaces a message's text and blocks; undefined when there is no such message. */
export async function updateConsoleMessage(
  db: Queryable,
  id: number,
  message: { text: string; blocks?: unknown },
): Promise<ConsoleMessageRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(consoleMessages)
      .set({ text: message.text, blocks: message.blocks ?? null, updatedAt: sql`now()` })
      .where(eq(consoleMessages.id, id))
      .returning();
    if (row) await notify(tx, { kind: 'message', id });
    return row;
  });
}

export async function consoleMessage(db: Queryable, id: number): Promise<ConsoleMessageRow | undefined> {
  const [row] = await db.select().from(consoleMessages).where(eq(consoleMessages.id, id));
  return row;
}

/**
 * The latest `limit` messages `user` may see, oldest first: every channel's messages, their
 * own direct messages, and what was posted only for them.
 */
export async function consoleMessagesFor(
  db: Queryable,
  user: string,
  limit: number,
): Promise<ConsoleMessageRow[]> {
  const rows = await db
    .select()
    .from(consoleMessages)
    .where(
      and(
        or(isNull(consoleMessages.visibleTo), eq(consoleMessages.visibleTo, user)),
        or(sql`${consoleMessages.channel} not like 'dm:%'`, eq(consoleMessages.channel, `dm:${user}`)),
      ),
    )
    .orderBy(desc(consoleMessages.id))
    .limit(limit);
  return rows.reverse();
}

/** The channels that have messages everyone sees, by name. */
export async function consoleChannels(db: Queryable): Promise<string[]> {
  const rows = await db
    .selectDistinct({ channel: consoleMessages.channel })
    .from(consoleMessages)
    .where(and(sql`${consoleMessages.channel} not like 'dm:%'`, isNull(consoleMessages.visibleTo)))
    .orderBy(asc(consoleMessages.channel));
  return rows.map((r) => r.channel);
}

export async function setConsoleHome(db: Queryable, user: string, view: unknown): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .insert(consoleHomes)
      .values({ userId: user, view })
      .onConflictDoUpdate({ target: consoleHomes.userId, set: { view, updatedAt: sql`now()` } });
    await notify(tx, { kind: 'home', user });
  });
}

export async function consoleHome(db: Queryable, user: string): Promise<unknown> {
  const [row] = await db
    .select({ view: consoleHomes.view })
    .from(consoleHomes)
    .where(eq(consoleHomes.userId, user));
  return row?.view ?? null;
}
