import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatInbox, type InboxRequest } from '../src/bot/chat-inbox.ts';
import { chatInbox } from '../src/db/schema.ts';
import { backends, type TestDatabase, testDatabase } from './helpers/database.ts';
import { recordingLogger } from './helpers/logger.ts';

describe.each(backends())('chat inbox on %s', (backend) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await testDatabase(backend);
  });
  afterAll(async () => {
    await t?.close();
  });

  const row = async (key: string) =>
    (await t.database.db.select().from(chatInbox).where(eq(chatInbox.idempotencyKey, key)))[0];
  /** As if the claim had run out (or the backoff had passed). */
  const expireClaim = (key: string) =>
    t.database.db
      .update(chatInbox)
      .set({ claimedUntil: sql`now() - interval '1 second'` })
      .where(eq(chatInbox.idempotencyKey, key));

  it('stores a request once per key, claimed, and leaves it to its first delivery', async () => {
    const handled: InboxRequest[] = [];
    const inbox = createChatInbox(
      { database: t.database, log: recordingLogger().logger, handle: async (r) => void handled.push(r) },
      { surface: 'slack' },
    );
    const first = await inbox.record('approve', 'k-once', { user: 'U1' });
    expect(first).toMatchObject({ kind: 'approve', key: 'k-once', attempts: 1, payload: { user: 'U1' } });
    expect(await inbox.record('approve', 'k-once', { user: 'U1' })).toBeUndefined();
    // Claimed by this process: a drain pass leaves it alone.
    expect(await inbox.tick()).toBe(0);
    await inbox.process(first as InboxRequest);
    expect(handled.map((r) => r.key)).toEqual(['k-once']);
    expect(await row('k-once')).toMatchObject({ status: 'done', attempts: 1, claimedUntil: null });
    expect((await row('k-once'))?.doneAt).toBeInstanceOf(Date);
  });

  it('handles a pending request whose claim ran out (its process died after the ack)', async () => {
    const handled: string[] = [];
    const inbox = createChatInbox(
      { database: t.database, log: recordingLogger().logger, handle: async (r) => void handled.push(r.key) },
      { surface: 'slack' },
    );
    await inbox.record('approve', 'k-orphan', {});
    await expireClaim('k-orphan');
    expect(await inbox.tick()).toBe(1);
    expect(handled).toEqual(['k-orphan']);
    expect(await row('k-orphan')).toMatchObject({ status: 'done', attempts: 2 });
    expect(await inbox.tick()).toBe(0);
  });

  it('records errors, retries a bounded number of times, then marks the request failed and logs it', async () => {
    const { logger, lines } = recordingLogger();
    let calls = 0;
    const inbox = createChatInbox(
      {
        database: t.database,
        log: logger,
        handle: async (r) => {
          if (r.key === 'k-fails') {
            calls++;
            throw new Error(`slack is down (${calls})`);
          }
        },
      },
      { surface: 'slack', maxAttempts: 3 },
    );
    await inbox.process((await inbox.record('confirm', 'k-fails', {})) as InboxRequest);
    expect(await row('k-fails')).toMatchObject({ status: 'pending', attempts: 1 });
    expect((await row('k-fails'))?.error).toContain('slack is down (1)');
    // Backing off: not taken again before its time.
    expect(await inbox.tick()).toBe(0);
    await expireClaim('k-fails');
    expect(await inbox.tick()).toBe(1);
    expect(await row('k-fails')).toMatchObject({ status: 'pending', attempts: 2 });
    await expireClaim('k-fails');
    expect(await inbox.tick()).toBe(1);
    expect(await row('k-fails')).toMatchObject({ status: 'failed', attempts: 3 });
    expect((await row('k-fails'))?.error).toContain('slack is down (3)');
    await expireClaim('k-fails');
    expect(await inbox.tick()).toBe(0);
    expect(calls).toBe(3);
    expect(lines.filter((l) => l.level === 'error')).toEqual([
      expect.objectContaining({
        message: 'chat request failed; giving up',
        fields: expect.objectContaining({ kind: 'confirm', key: 'k-fails', attempts: 3 }),
      }),
    ]);
  });

  it('drains on its own between start() and stop()', async () => {
    const handled: string[] = [];
    const inbox = createChatInbox(
      { database: t.database, log: recordingLogger().logger, handle: async (r) => void handled.push(r.key) },
      { surface: 'slack', pollMs: 20 },
    );
    await inbox.record('approve', 'k-loop', {});
    await expireClaim('k-loop');
    inbox.start();
    for (let i = 0; i < 100 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await inbox.stop();
    expect(handled).toEqual(['k-loop']);
    await inbox.record('approve', 'k-after-stop', {});
    await expireClaim('k-after-stop');
    await new Promise((r) => setTimeout(r, 100));
    expect(handled).toEqual(['k-loop']);
  });
});
