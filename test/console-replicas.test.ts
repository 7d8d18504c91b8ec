import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLocalSecret } from '../src/http/local-secret.ts';
import {
  cli,
  eventually,
  kill,
  type Proc,
  processEnv,
  spawnSteward,
  waitUntilUp,
} from './helpers/processes.ts';

type Message = {
  id: string;
  channel: string;
  thread: string | null;
  author: string;
  text: string;
  blocks: { type?: string; elements?: { action_id?: string; value?: string }[] }[] | null;
  ephemeral: boolean;
  updatedAt: string;
};
type Event = { event: string; data: unknown };

const buttonsOf = (m: Message) =>
  (m.blocks ?? []).flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
const said = (m: Message) => JSON.stringify({ text: m.text, blocks: m.blocks });

/** A browser session on one replica: the start URL with that replica's data dir secret. */
async function signIn(base: string, dataDir: string): Promise<{ cookie: string; csrf: string }> {
  const secret = readLocalSecret(dataDir);
  if (!secret) throw new Error(`no secret in ${dataDir}`);
  const link = await fetch(`${base}/?token=${encodeURIComponent(secret)}`, { redirect: 'manual' });
  expect(link.status).toBe(303);
  const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  expect(cookie).toMatch(/^steward_session=/);
  const { csrf } = (await (await fetch(`${base}/api/whoami`, { headers: { cookie } })).json()) as {
    csrf: string;
  };
  return { cookie, csrf };
}

/** An open `GET /api/console/events`: every event it has received so far, parsed. */
async function openEvents(base: string, cookie: string): Promise<{ events: Event[]; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(`${base}/api/console/events`, { headers: { cookie }, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Event[] = [];
  const reader = res.body?.getReader();
  if (!reader) throw new Error('the event stream has no body');
  const decoder = new TextDecoder();
  (async () => {
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length) events.push({ event, data: JSON.parse(data.join('\n')) });
        end = buffer.indexOf('\n\n');
      }
    }
  })().catch(() => {}); // aborted at the end
  return { events, close: () => controller.abort() };
}

/** The port a `steward start` says it is up on (on PostgreSQL no data dir lock records it). */
function urlOf(proc: Proc): string {
  const port = / is up on http:\/\/[^:\s]+:(\d+)/.exec(proc.output())?.[1];
  if (!port) throw new Error(`no port in the output:\n${proc.output()}`);
  return `http://127.0.0.1:${port}`;
}

/**
 * Two `steward start` replicas on one PostgreSQL, each with its own data dir: a console
 * open on replica A follows, over its event stream, what happens through replica B only.
 * The console's messages are rows, and each change is NOTIFYed to every process.
 */
describe.runIf(process.env.DATABASE_URL)('the console across two replicas on one PostgreSQL', () => {
  let cleanup: (() => Promise<void>) | undefined;
  let dirB: string;
  let envA: NodeJS.ProcessEnv;
  let envB: NodeJS.ProcessEnv;
  let a: Proc | undefined;
  let b: Proc | undefined;
  let stream: { events: Event[]; close(): void } | undefined;

  beforeAll(async () => {
    const made = await processEnv('postgres', { STEWARD_CONSOLE: 'demo' });
    cleanup = made.cleanup;
    envA = made.env;
    dirB = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-proc-b-'));
    envB = { ...envA, STEWARD_DATA_DIR: path.join(dirB, 'data') };
    a = spawnSteward(['start'], envA);
    b = spawnSteward(['start'], envB);
    await Promise.all([waitUntilUp(a), waitUntilUp(b)]);
  });
  afterAll(async () => {
    stream?.close();
    if (a) await kill(a);
    if (b) await kill(b);
    await cleanup?.();
    if (dirB) fs.rmSync(dirB, { recursive: true, force: true });
  });

  it("streams to A's open console the run B starts and B's console approves", async () => {
    const A = urlOf(a as Proc);
    const B = urlOf(b as Proc);
    expect(A).not.toBe(B);
    // Grants and tokens live in the database: made once, they hold on both replicas.
    for (const [user, role] of [
      ['alice', 'operator'],
      ['bob', 'approver'],
    ]) {
      expect((await cli(['grant', user as string, role as string], envA)).code).toBe(0);
    }
    const made = await cli(['token', 'create', 'alice', '--name', 'test'], envA);
    expect(made.code).toBe(0);
    const alice = made.out.trim();

    // A's console, open, acting as the signed-in admin (who sees every channel's messages).
    const onA = await signIn(A, String(envA.STEWARD_DATA_DIR));
    stream = await openEvents(A, onA.cookie);
    const { events } = stream;
    const messages = () => events.filter((e) => e.event === 'message').map((e) => e.data as Message);

    // B's console, playing Ben the approver.
    const onB = await signIn(B, String(envB.STEWARD_DATA_DIR));
    const postB = async (p: string, body: unknown) => {
      const res = await fetch(`${B}${p}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: onB.cookie,
          'x-csrf-token': onB.csrf,
          origin: B,
        },
        body: JSON.stringify(body),
      });
      const answer = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(answer)).toBeLessThan(300);
      return answer;
    };
    await postB('/api/console/persona', { persona: 'ben' });

    // What a person writes on B is a row B's own request inserted: A's console shows it.
    await postB('/api/console/messages', { channel: '#ml-ops', text: 'hello from replica B' });
    await eventually(
      async () => messages().find((m) => m.author === 'ben' && m.text === 'hello from replica B'),
      10_000,
      "B's message on A's stream",
    );

    // A run started through B's REST API, as Alice.
    const started = await fetch(`${B}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice}` },
      body: JSON.stringify({ pipeline: 'demo' }),
    });
    expect(started.status).toBe(201);
    const { run } = (await started.json()) as { run: { number: number } };
    const names = (m: Message) => new RegExp(`#${run.number}(?!\\d)`).test(said(m));

    // Its message arrives on A's stream, then is updated as the run advances.
    const root = await eventually(
      async () => messages().find((m) => m.author === 'steward' && m.thread === null && names(m)),
      20_000,
      `the message of run #${run.number} on A`,
    );
    expect(root.channel).toBe('#ml-ops');
    const card = await eventually(
      async () =>
        messages().find(
          (m) => m.id !== root.id && buttonsOf(m).some((x) => x.action_id === 'run.approve') && names(m),
        ),
      30_000,
      `the approval card of run #${run.number} on A`,
    );
    expect(buttonsOf(card).map((x) => x.action_id)).toEqual(
      expect.arrayContaining(['run.approve', 'run.reject']),
    );
    await eventually(
      async () => messages().filter((m) => m.id === root.id).length >= 2,
      20_000,
      `the message of run #${run.number} updated on A`,
    );

    // Ben approves on B's console.
    const approve = buttonsOf(card).find((x) => x.action_id === 'run.approve');
    await postB('/api/console/actions', {
      action_id: 'run.approve',
      value: approve?.value,
      message: { channel: card.channel, id: card.id },
      click: randomUUID(),
    });

    // A's console sees the card become the decision, and the run's message reach production.
    const decided = await eventually(
      async () =>
        messages().find(
          (m) =>
            m.id === card.id &&
            !buttonsOf(m).some((x) => x.action_id === 'run.approve') &&
            /Approved by/.test(said(m)),
        ),
      30_000,
      `the approval card of run #${run.number} decided on A`,
    );
    expect(said(decided)).toContain('ben');
    await eventually(
      async () => messages().find((m) => m.id === root.id && /deployed|production/i.test(said(m))),
      30_000,
      `the message of run #${run.number} deployed on A`,
    );
    // Nothing A's console may not see came through: no one's private answers, no reload.
    expect(messages().every((m) => !m.ephemeral)).toBe(true);
    expect(events.some((e) => e.event === 'reset')).toBe(false);
  });
});
