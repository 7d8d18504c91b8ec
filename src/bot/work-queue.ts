import type { Logger } from '../log.ts';

/**
 * Runs what listeners do after their ack, a few at a time. Acks are answered from the same
 * event loop; with the follow-up work of every request in flight at once, a burst of
 * requests would make each new ack wait behind all of it. Queued work waits instead, and
 * the acks stay fast. Nothing is dropped: the queue only orders.
 */
export type WorkQueue = { push(label: string, work: () => Promise<unknown>): void; drain(): Promise<void> };

export function createWorkQueue(concurrency: number, log: Logger): WorkQueue {
  const waiting: { label: string; work: () => Promise<unknown> }[] = [];
  let running = 0;
  let idle: (() => void)[] = [];

  function next(): void {
    while (running < concurrency && waiting.length > 0) {
      const item = waiting.shift() as (typeof waiting)[number];
      running++;
      // setImmediate: let pending I/O (new requests to ack) go first.
      setImmediate(() => {
        item
          .work()
          .catch((error: Error) =>
            log.error('chat work failed', { work: item.label, error: error.stack ?? error.message }),
          )
          .finally(() => {
            running--;
            next();
          });
      });
    }
    if (running === 0 && waiting.length === 0) {
      for (const resolve of idle) resolve();
      idle = [];
    }
  }

  return {
    push(label, work) {
      waiting.push({ label, work });
      next();
    },
    drain() {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
  };
}
