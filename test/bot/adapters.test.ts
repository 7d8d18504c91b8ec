import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesIntentParser } from '../../src/bot/commands/llm.ts';
import { createConsole } from '../../src/bot/console/console.ts';
import { createNotifier } from '../../src/bot/notifier.ts';
import { createSlackBot } from '../../src/bot/slack/app.ts';
import { createToken } from '../../src/db/credentials-repo.ts';
import { findRun, grantRole, listRuns } from '../../src/db/runs-repo.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/log.ts';
import { createMemoryCatalog } from '../../src/stages/catalog.ts';
import { processClock } from '../../src/workflows/clock.ts';
import { createMonitoring } from '../../src/workflows/monitoring.ts';
import { createRoleService } from '../../src/workflows/role-service.ts';
import { createRunEngine, SYSTEM_ACTOR } from '../../src/workflows/run-engine.ts';
import { createRunService } from '../../src/workflows/run-service.ts';
import { createInlineExecutor } from '../../src/workflows/stage-executor.ts';
import { createStageWorker, type StageWorker } from '../../src/workflows/stage-worker.ts';
import { stages } from '../fixtures/test-stages.ts';
import { backends, type TestDatabase, testDatabase } from '../helpers/database.ts';
import { demoSpec } from '../helpers/engine.ts';
import { blockAction, signedHeaders, slashCommand, startFakeSlack } from '../helpers/fake-slack.ts';
import { eventually } from '../helpers/processes.ts';

/*
 * One table of chat cases, described without naming an adapter, run against both: Slack
 * (the real Bolt app behind Steward's HTTP server, signed requests, a fake Slack API that
 * records what Steward says) and the local console (its HTTP endpoints, with real browser
 * sessions). The same handlers are behind both, so the same cases must hold on both.
 */

type Role = 'operator' | 'approver' | 'viewer';
/** A number-dependent value: the case's run (the one at the gate) is only known when the case runs. */
type OfRun<T> = T | ((run: number) => T);

type Expect = {
  /** A new private answer to the person who acted matches. */
  answer?: OfRun<RegExp>;
  /** The new private answer carries a Confirm button (a confirmation card). */
  confirmation?: true;
  /** A modal with this callback id opened for the person. */
  modal?: string;
  /** The case's run reaches this state. */
  state?: string;
  /** The case's run is as it was (state and version) a moment later. */
  unchanged?: true;
  /** The case's approval card is redrawn without buttons, matching this. */
  card?: RegExp;
  /** The run's snapshot keeps this text (a rejection's reason). */
  recorded?: string;
  /** A new run was started: its message appears, it reaches the gate, and its approval card is posted. */
  started?: true;
  /** Exactly this many runs were started by the step. */
  newRuns?: number;
};

type Step = { as: Role; expect: Expect } & (
  | { command: OfRun<string> }
  /** Presses a button of the case's approval card. */
  | { press: 'run.approve' | 'run.reject' }
  /** Presses a button Steward never drew. */
  | { forge: { action: string; value: OfRun<string> } }
  | { say: OfRun<string> }
  /** Presses Confirm on the last confirmation card this person was shown. */
  | { confirm: true | 'twice at once' }
  /** Submits the last modal opened for this person, with these inputs (block → action → value). */
  | { submit: Record<string, Record<string, string>> }
);

type Case = {
  name: string /** A run the operator started, waiting at the gate. */;
  gate?: true;
  steps: Step[];
};

const CASES: Case[] = [
  {
    name: '/mlops help answers privately with the commands',
    steps: [{ as: 'viewer', command: 'help', expect: { answer: /What Steward can do[\s\S]*\/mlops run/ } }],
  },
  {
    name: '/mlops runs lists the runs privately',
    gate: true,
    steps: [{ as: 'viewer', command: 'runs', expect: { answer: (n) => new RegExp(`#${n}\\b`) } }],
  },
  {
    name: '/mlops run <pipeline> posts the run, which reaches the gate with an approval card',
    steps: [{ as: 'operator', command: 'run demo', expect: { started: true } }],
  },
  {
    name: '/mlops history <pipeline> answers privately (no deployment has moved the alias here)',
    steps: [{ as: 'viewer', command: 'history demo', expect: { answer: /demo\* has no deployments yet/ } }],
  },
  {
    name: "an operator's /mlops promote is refused for want of the approver role",
    steps: [
      { as: 'operator', command: 'promote demo', expect: { answer: /approver role on demo to promote/ } },
    ],
  },
  {
    name: '/mlops rollback with nothing in production says so privately and starts no run',
    steps: [
      {
        as: 'operator',
        command: 'rollback demo',
        expect: { answer: /no model in production to roll back from/, newRuns: 0 },
      },
    ],
  },
  {
    name: "the requester's own Approve is refused (four eyes)",
    gate: true,
    steps: [{ as: 'operator', press: 'run.approve', expect: { answer: /four eyes/, unchanged: true } }],
  },
  {
    name: "a viewer's Approve is refused for want of the approver role",
    gate: true,
    steps: [
      {
        as: 'viewer',
        press: 'run.approve',
        expect: { answer: /approver role on demo/, unchanged: true },
      },
    ],
  },
  {
    name: "an approver's Approve deploys the run and redraws the card",
    gate: true,
    steps: [
      {
        as: 'approver',
        press: 'run.approve',
        expect: {
          answer: (n) => new RegExp(`#${n} is now deploying`),
          state: 'deployed',
          card: /Approved by/,
        },
      },
    ],
  },
  {
    name: 'Reject asks for a reason in a modal; submitting it rejects the run',
    gate: true,
    steps: [
      { as: 'approver', press: 'run.reject', expect: { modal: 'run.reject', unchanged: true } },
      {
        as: 'approver',
        submit: { reason: { reason: 'recall dropped on new customers' } },
        expect: { state: 'rejected', card: /Rejected by/, recorded: 'recall dropped on new customers' },
      },
    ],
  },
  {
    name: 'a forged button value is refused as not one of Steward’s',
    gate: true,
    steps: [
      {
        as: 'approver',
        forge: { action: 'run.approve', value: (n) => JSON.stringify({ run: String(n), v: 0 }) },
        expect: { answer: /not one of Steward’s/, unchanged: true },
      },
    ],
  },
  {
    name: 'a sentence that would change something is shown to confirm first; Confirm does it',
    gate: true,
    steps: [
      {
        as: 'approver',
        say: (n) => `please approve run #${n}`,
        expect: { confirmation: true, answer: (n) => new RegExp(`#${n}`), unchanged: true },
      },
      {
        as: 'approver',
        confirm: true,
        expect: {
          answer: (n) => new RegExp(`#${n} is now deploying`),
          state: 'deployed',
          card: /Approved by/,
        },
      },
    ],
  },
  {
    name: 'Confirm pressed twice at once on one card starts one run',
    steps: [
      {
        as: 'operator',
        say: 'please run demo',
        expect: { confirmation: true, answer: /demo/, newRuns: 0 },
      },
      {
        as: 'operator',
        confirm: 'twice at once',
        expect: { newRuns: 1 },
      },
    ],
  },
];

// ---------------------------------------------------------------------------------------
// What the drivers see: messages and private answers, the same shape on both surfaces.

type Button = { action_id: string; value: string };
type Said = { id: string; channel: string; thread: string | null; text: string; buttons: Button[] };
type Modal = { callback_id: string; private_metadata: string };

/** One adapter, driven from outside as a person would use it. */
type Driver = {
  users: Record<Role, string>;
  command(user: string, text: string): Promise<void>;
  say(user: string, text: string): Promise<void>;
  /** Presses `button` on `message` (undefined: a button on no message of Steward's). */
  click(user: string, message: Said | undefined, button: Button): Promise<void>;
  submitModal(user: string, modal: Modal, values: Record<string, Record<string, string>>): Promise<void>;
  /** The modals opened for `user`, oldest first. */
  modals(user: string): Promise<Modal[]>;
  /** What Steward told `user` alone, oldest first. */
  privateAnswersFor(user: string): Promise<Said[]>;
  /** Steward's messages everyone in the channel sees, each as it is now, oldest first. */
  messages(): Promise<Said[]>;
};

type Block = { type?: string; elements?: { action_id?: string; value?: string }[] };
const buttonsOf = (blocks: unknown): Button[] =>
  (Array.isArray(blocks) ? (blocks as Block[]) : []).flatMap((b) =>
    b.type === 'actions'
      ? (b.elements ?? []).flatMap((e) =>
          e.action_id ? [{ action_id: e.action_id, value: e.value ?? '' }] : [],
        )
      : [],
  );

const SLACK_SECRET = 'test-signing-secret';
const LOCAL_SECRET = 'stl_adapters-local-secret';

describe.each(backends())('chat adapters on %s', (backend) => {
  let t: TestDatabase;
  let fake: Awaited<ReturnType<typeof startFakeSlack>>;
  let server: http.Server;
  let base: string;
  let worker: StageWorker;
  let stopConsole: () => Promise<void>;
  const drivers: Record<'Slack' | 'console', Driver> = {} as Record<'Slack' | 'console', Driver>;

  beforeAll(async () => {
    t = await testDatabase(backend);
    fake = await startFakeSlack();
    const catalog = createMemoryCatalog([demoSpec()]);
    const engine = createRunEngine({ ...t, catalog, clock: processClock, log: silentLogger });
    const service = createRunService({ database: t.database, engine, catalog });
    const roles = createRoleService({ database: t.database });
    const core = {
      database: t.database,
      service,
      roles,
      jobs: t.jobs,
      intents: rulesIntentParser,
      monitoring: createMonitoring({
        database: t.database,
        catalog,
        clock: processClock,
        log: silentLogger,
        runs: service,
      }),
      log: silentLogger,
    };
    const bot = createSlackBot(
      { botToken: 'xoxb-test', signingSecret: SLACK_SECRET, apiUrl: fake.url },
      core,
    );
    const console = createConsole({ ...core, mode: 'on' });
    worker = createStageWorker({
      database: t.database,
      jobs: t.jobs,
      engine,
      executor: createInlineExecutor(stages),
      notifiers: {
        slack: createNotifier({ database: t.database, service, chat: bot.chat, log: silentLogger }),
        console: createNotifier({ database: t.database, service, chat: console.chat, log: silentLogger }),
      },
      log: silentLogger,
      workerId: 'test',
      pollMs: 50,
    });
    worker.start();
    const slackUsers = { operator: 'U_ALICE', approver: 'U_BOB', viewer: 'U_VICTOR' } as const;
    const consoleUsers = { operator: 'alice', approver: 'bob', viewer: 'victor' } as const;
    for (const users of [slackUsers, consoleUsers]) {
      for (const [role, userId] of Object.entries(users)) {
        await grantRole(t.database.db, { userId, role: role as Role, grantedBy: 'test' });
      }
    }
    server = createHttpServer({
      service,
      roles,
      database: t.database,
      log: silentLogger,
      version: 't',
      localSecret: LOCAL_SECRET,
      ...(bot.http ? { slack: bot.http } : {}),
      console,
    });
    await console.start();
    stopConsole = () => console.stop();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    drivers.Slack = slackDriver(base, fake, slackUsers);
    drivers.console = await consoleDriver(base, t, consoleUsers);
  });
  afterAll(async () => {
    await worker?.stop(0);
    await stopConsole?.();
    server?.closeAllConnections();
    server?.close();
    await fake?.close();
    await t?.close();
  });

  describe.each(['Slack', 'console'] as const)('through %s', (adapter) => {
    const resolve = <T>(value: OfRun<T>, run: number): T =>
      typeof value === 'function' ? (value as (run: number) => T)(run) : value;

    /** Whose the n-th run message is: `#12` in its text, not `#123`. */
    const names = (n: number) => (m: Said) => new RegExp(`#${n}(?!\\d)`).test(m.text);

    /** Runs `/mlops run demo` as the operator; the run's number, root message and approval card. */
    async function startRun(d: Driver): Promise<{ run: number; card: Said }> {
      const user = d.users.operator;
      const latest = async () =>
        (await listRuns(t.database.db, { limit: 500 })).filter((r) => r.requestedBy === user).at(0)?.number ??
        0;
      const before = await latest();
      await d.command(user, 'run demo');
      const run = await eventually(
        async () => {
          const number = await latest();
          return number > before ? number : undefined;
        },
        10_000,
        'a new run',
      );
      const root = await eventually(
        async () => (await d.messages()).find((m) => m.thread === null && names(run)(m)),
        10_000,
        `the message of run #${run}`,
      );
      await eventually(
        async () => (await findRun(t.database.db, { number: run }))?.state === 'awaitingApproval',
        20_000,
        `run #${run} at the gate`,
      );
      const card = await eventually(
        async () =>
          (await d.messages()).find(
            (m) =>
              m.id !== root.id &&
              m.buttons.some((b) => b.action_id === 'run.approve' && JSON.parse(b.value).run === run),
          ),
        20_000,
        `the approval card of run #${run}`,
      );
      expect(card.buttons.map((b) => b.action_id)).toEqual(
        expect.arrayContaining(['run.approve', 'run.reject']),
      );
      expect(card.channel).toBe(root.channel);
      // The root message follows the run: it shows the gate by now.
      await eventually(
        async () => (await d.messages()).find((m) => m.id === root.id && /approv/i.test(m.text)) ?? undefined,
        10_000,
        `the message of run #${run} at the gate`,
      );
      return { run, card };
    }

    it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
      const d = drivers[adapter];
      let run = 0;
      let card: Said | undefined;
      if (c.gate) ({ run, card } = await startRun(d));
      for (const step of c.steps) {
        const user = d.users[step.as];
        const answered = new Set((await d.privateAnswersFor(user)).map((a) => a.id));
        const opened = (await d.modals(user)).length;
        const before = run ? await findRun(t.database.db, { number: run }) : undefined;
        const runsBefore = (await listRuns(t.database.db, { limit: 1000 })).length;
        /** The message whose button was pressed: the answer comes where the person pressed it. */
        let pressedOn: Said | undefined;

        if ('command' in step) {
          if (step.expect.started) ({ run, card } = await startRun(d));
          else await d.command(user, resolve(step.command, run));
        } else if ('press' in step) {
          const button = card?.buttons.find((b) => b.action_id === step.press);
          if (!card || !button) throw new Error(`the case has no approval card with ${step.press}`);
          pressedOn = card;
          await d.click(user, card, button);
        } else if ('forge' in step) {
          await d.click(user, undefined, {
            action_id: step.forge.action,
            value: resolve(step.forge.value, run),
          });
        } else if ('say' in step) {
          await d.say(user, resolve(step.say, run));
        } else if ('confirm' in step) {
          const confirmation = (await d.privateAnswersFor(user))
            .filter((a) => a.buttons.some((b) => b.action_id === 'intent.confirm'))
            .at(-1);
          const button = confirmation?.buttons.find((b) => b.action_id === 'intent.confirm');
          if (!confirmation || !button) throw new Error('no confirmation card to confirm');
          pressedOn = confirmation;
          if (step.confirm === 'twice at once') {
            await Promise.all([d.click(user, confirmation, button), d.click(user, confirmation, button)]);
          } else {
            await d.click(user, confirmation, button);
          }
        } else if ('submit' in step) {
          const modal = (await d.modals(user)).at(-1);
          if (!modal) throw new Error('no modal to submit');
          await d.submitModal(user, modal, step.submit);
        }

        const { expect: want } = step;
        if (want.answer || want.confirmation) {
          const pattern = want.answer ? resolve(want.answer, run) : /./;
          const answer = await eventually(
            async () =>
              (await d.privateAnswersFor(user)).find((a) => !answered.has(a.id) && pattern.test(a.text)),
            10_000,
            `a private answer to ${user} matching ${pattern}`,
          );
          if (pressedOn) expect(answer.channel).toBe(pressedOn.channel);
          if (want.confirmation) {
            expect(answer.buttons.map((b) => b.action_id)).toContain('intent.confirm');
          }
        }
        if (want.modal) {
          const modal = await eventually(
            async () => (await d.modals(user)).slice(opened)[0],
            10_000,
            `a modal for ${user}`,
          );
          expect(modal.callback_id).toBe(want.modal);
        }
        if (want.state) {
          await eventually(
            async () => (await findRun(t.database.db, { number: run }))?.state === want.state,
            20_000,
            `run #${run} to be ${want.state}`,
          );
        }
        if (want.newRuns !== undefined) {
          const started = async () => (await listRuns(t.database.db, { limit: 1000 })).length - runsBefore;
          const n = want.newRuns;
          await eventually(async () => (await started()) >= n, 10_000, `${n} new runs`);
          await sleep(500); // and no more after a while
          expect(await started()).toBe(n);
        }
        if (want.recorded) {
          const row = await findRun(t.database.db, { number: run });
          expect(JSON.stringify(row?.snapshot)).toContain(want.recorded);
        }
        if (want.card) {
          const pattern = want.card;
          const id = card?.id;
          await eventually(
            async () =>
              (await d.messages()).find((m) => m.id === id && m.buttons.length === 0 && pattern.test(m.text)),
            10_000,
            `the approval card of run #${run} redrawn as ${pattern}`,
          );
        }
        if (want.unchanged) {
          await sleep(300);
          const after = await findRun(t.database.db, { number: run });
          expect(after).toMatchObject({ state: before?.state, version: before?.version });
        }
      }
    });
  });
});

// ---------------------------------------------------------------------------------------
// The Slack driver: signed requests to the real Bolt app; what Steward said, from the fake
// Slack API's recorded calls.

function slackDriver(
  base: string,
  fake: Awaited<ReturnType<typeof startFakeSlack>>,
  users: Record<Role, string>,
): Driver {
  const CHANNEL = 'C_ML';
  let counter = 0;
  const unique = () => `${1_700_100_000 + ++counter}.000001`;
  /** The trigger ids of each person's clicks: a modal opened with one is theirs. */
  const triggers = new Map<string, Set<string>>();

  async function send(body: string, contentType?: string) {
    const headers = {
      ...signedHeaders(SLACK_SECRET, body),
      ...(contentType ? { 'content-type': contentType } : {}),
    };
    const res = await fetch(`${base}/slack/events`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
  const said = (id: string, body: Record<string, unknown>): Said => ({
    id,
    channel: String(body.channel ?? ''),
    thread: typeof body.thread_ts === 'string' ? body.thread_ts : null,
    text: JSON.stringify({ text: body.text, blocks: body.blocks }),
    buttons: buttonsOf(body.blocks),
  });

  return {
    users,
    command: (user, text) => send(slashCommand(text, user, CHANNEL)),
    say: (user, text) =>
      send(
        JSON.stringify({
          type: 'event_callback',
          team_id: 'T1',
          api_app_id: 'A1',
          event_id: `Ev${unique()}`,
          event_time: 1,
          event: { type: 'app_mention', user, channel: CHANNEL, ts: unique(), text: `<@UBOT> ${text}` },
        }),
        'application/json',
      ),
    async click(user, message, button) {
      const body = blockAction(button.action_id, button.value, {
        user,
        channel: message?.channel || CHANNEL,
        // An ephemeral message has no ts Steward knows; Slack sends one all the same.
        ...(message && !message.id.startsWith('ephemeral:') ? { ts: message.id } : {}),
        actionTs: unique(),
      });
      const payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '{}') as { trigger_id: string };
      const mine = triggers.get(user) ?? new Set<string>();
      mine.add(payload.trigger_id);
      triggers.set(user, mine);
      await send(body);
    },
    async submitModal(user, modal, values) {
      const state: Record<string, Record<string, { type: string; value: string }>> = {};
      for (const [block, actions] of Object.entries(values)) {
        state[block] = {};
        for (const [id, value] of Object.entries(actions)) {
          state[block][id] = { type: 'plain_text_input', value };
        }
      }
      const submission = {
        type: 'view_submission',
        team: { id: 'T1' },
        user: { id: user },
        trigger_id: `trigger.${unique()}`,
        view: {
          id: `V${++counter}`,
          type: 'modal',
          callback_id: modal.callback_id,
          private_metadata: modal.private_metadata,
          state: { values: state },
        },
      };
      await send(new URLSearchParams({ payload: JSON.stringify(submission) }).toString());
    },
    async modals(user) {
      const mine = triggers.get(user) ?? new Set<string>();
      return fake.calls
        .filter((c) => c.method === 'views.open' && mine.has(String(c.body.trigger_id)))
        .map((c) => c.body.view as Modal);
    },
    async privateAnswersFor(user) {
      return fake.calls
        .filter((c) => c.method === 'chat.postEphemeral')
        .map((c, i) => ({ call: c, id: `ephemeral:${i}` }))
        .filter(({ call }) => call.body.user === user)
        .map(({ call, id }) => said(id, call.body));
    },
    async messages() {
      // The fake answers the n-th chat.postMessage with ts `1700000000+n`.000100, in call order.
      const byTs = new Map<string, Said>();
      let posted = 0;
      for (const c of fake.calls) {
        if (c.method === 'chat.postMessage') {
          const ts = `${1_700_000_000 + ++posted}.000100`;
          byTs.set(ts, said(ts, c.body));
        } else if (c.method === 'chat.update') {
          const ts = String(c.body.ts);
          const earlier = byTs.get(ts);
          if (earlier) byTs.set(ts, { ...said(ts, c.body), thread: earlier.thread });
        }
      }
      return [...byTs.values()];
    },
  };
}

// ---------------------------------------------------------------------------------------
// The console driver: its HTTP endpoints with a real browser session per person (the start
// URL with their personal token, then the session's CSRF token on every change).

type ConsoleMessageJson = {
  id: string;
  channel: string;
  thread: string | null;
  author: string;
  text: string;
  blocks: unknown[] | null;
  ephemeral: boolean;
};

async function consoleDriver(base: string, t: TestDatabase, users: Record<Role, string>): Promise<Driver> {
  const CHANNEL = '#ml-ops';
  const sessions = new Map<string, { cookie: string; csrf: string }>();
  for (const user of Object.values(users)) {
    const { token } = await createToken(t.database.db, { userId: user, name: 'console', createdBy: 'test' });
    const link = await fetch(`${base}/?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
    expect(link.status).toBe(303);
    const cookie = (link.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^steward_session=/);
    const whoami = await fetch(`${base}/api/whoami`, { headers: { cookie } });
    const { csrf } = (await whoami.json()) as { csrf?: string };
    if (!csrf) throw new Error(`no CSRF token for ${user}'s session`);
    sessions.set(user, { cookie, csrf });
  }
  const modals = new Map<string, Modal[]>();
  const sessionOf = (user: string) => {
    const session = sessions.get(user);
    if (!session) throw new Error(`no console session for ${user}`);
    return session;
  };

  async function post(user: string, path: string, body: unknown): Promise<Record<string, unknown>> {
    const { cookie, csrf } = sessionOf(user);
    const res = await fetch(`${base}/api/console/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf, origin: base, cookie },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as Record<string, unknown>;
    if (!res.ok)
      throw new Error(`POST /api/console/${path} answered ${res.status}: ${JSON.stringify(answer)}`);
    return answer;
  }
  async function state(user: string): Promise<ConsoleMessageJson[]> {
    const res = await fetch(`${base}/api/console/state`, { headers: { cookie: sessionOf(user).cookie } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { messages: ConsoleMessageJson[] }).messages;
  }
  const said = (m: ConsoleMessageJson): Said => ({
    id: m.id,
    channel: m.channel,
    thread: m.thread,
    text: JSON.stringify({ text: m.text, blocks: m.blocks }),
    buttons: buttonsOf(m.blocks),
  });

  return {
    users,
    async command(user, text) {
      await post(user, 'messages', { channel: CHANNEL, text: `/mlops ${text}` });
    },
    async say(user, text) {
      await post(user, 'messages', { channel: CHANNEL, text });
    },
    async click(user, message, button) {
      const answer = await post(user, 'actions', {
        action_id: button.action_id,
        value: button.value,
        ...(message ? { message: { channel: message.channel, id: message.id } } : {}),
        click: randomUUID(),
      });
      expect(answer.ok).toBe(true);
      if (answer.modal) modals.set(user, [...(modals.get(user) ?? []), answer.modal as Modal]);
    },
    async submitModal(user, modal, values) {
      const inputs: Record<string, Record<string, { value: string }>> = {};
      for (const [block, actions] of Object.entries(values)) {
        inputs[block] = {};
        for (const [id, value] of Object.entries(actions)) inputs[block][id] = { value };
      }
      await post(user, 'views', {
        callback_id: modal.callback_id,
        private_metadata: modal.private_metadata,
        values: inputs,
        submit: randomUUID(),
      });
    },
    modals: async (user) => modals.get(user) ?? [],
    async privateAnswersFor(user) {
      return (await state(user)).filter((m) => m.ephemeral && m.author === SYSTEM_ACTOR).map(said);
    },
    async messages() {
      return (await state(users.viewer)).filter((m) => !m.ephemeral && m.author === SYSTEM_ACTOR).map(said);
    },
  };
}
