import type { Database } from '../../db/client.ts';
import { CONSOLE_CHANNEL, type ConsoleChange, consoleHome, consoleMessage } from '../../db/console-repo.ts';
import type { Logger } from '../../log.ts';
import { canSee, toConsoleMessage } from './messages.ts';

/** One open console: who it acts as, and how to send it an event. */
export type LiveClient = { user: string; send(event: string, data: unknown): void };

export type ConsoleLive = {
  /** Starts listening; every process with open consoles listens on its own. */
  start(): Promise<void>;
  /** Adds an open console; returns how to remove it. */
  join(client: LiveClient): () => void;
  stop(): Promise<void>;
};

/**
 * Fans the console's changes out to the consoles open in this process. Changes arrive by
 * LISTEN/NOTIFY, whichever process made them, so with several replicas on one PostgreSQL
 * every open console gets every update. A notification names the row; each is read once
 * and sent to the consoles allowed to see it. After a lost listener connection every
 * console is told to reload (`reset`), since notifications may have been missed.
 */
export function createConsoleLive({ database, log }: { database: Database; log: Logger }): ConsoleLive {
  const clients = new Set<LiveClient>();
  let unlisten: (() => Promise<void>) | undefined;
  let queue: Promise<void> = Promise.resolve();

  async function deliver(change: ConsoleChange): Promise<void> {
    if (clients.size === 0) return;
    if (change.kind === 'home') {
      const view = await consoleHome(database.db, change.user);
      for (const c of clients) if (c.user === change.user) c.send('home', { view });
      return;
    }
    const row = await consoleMessage(database.db, change.id);
    if (!row) return;
    const message = toConsoleMessage(row);
    for (const c of clients) if (canSee(c.user, row)) c.send('message', message);
  }

  function onNotify(payload: string): void {
    let change: ConsoleChange;
    try {
      change = JSON.parse(payload) as ConsoleChange;
    } catch {
      return;
    }
    // One at a time, in the order the notifications came (the order of the commits), so
    // two updates of one message are never read and sent newest first.
    queue = queue
      .then(() => deliver(change))
      .catch((error: Error) => log.warn('console update not sent', { error: error.message }));
  }

  return {
    async start() {
      unlisten ??= await database.listen(CONSOLE_CHANNEL, onNotify, () => {
        for (const c of clients) c.send('reset', {});
      });
    },
    join(client) {
      clients.add(client);
      return () => clients.delete(client);
    },
    async stop() {
      await unlisten?.();
      unlisten = undefined;
      clients.clear();
    },
  };
}
