import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { createWorkQueue } from '../../src/bot/work-queue.ts';
import { silentLogger } from '../../src/log.ts';

describe('work queue', () => {
  it('runs work in order, no more than its concurrency at once, and drains', async () => {
    const queue = createWorkQueue(1, silentLogger);
    const events: string[] = [];
    let running = 0;
    let most = 0;
    for (const name of ['a', 'b', 'c']) {
      queue.push(name, async () => {
        running++;
        most = Math.max(most, running);
        events.push(`start ${name}`);
        await sleep(5);
        events.push(`end ${name}`);
        running--;
      });
    }
    await queue.drain();
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(most).toBe(1);
  });

  it('logs a failing item and goes on', async () => {
    const error = vi.fn();
    const queue = createWorkQueue(2, { ...silentLogger, error });
    const done = vi.fn();
    queue.push('boom', async () => {
      throw new Error('boom');
    });
    queue.push('fine', async () => done());
    await queue.drain();
    expect(done).toHaveBeenCalledOnce();
    expect(error).toHaveBeenCalledWith('chat work failed', expect.objectContaining({ work: 'boom' }));
  });
});
