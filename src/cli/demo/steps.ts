import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { APPROVE_ACTION } from '../../bot/views/approval-card.ts';
import { RETRAIN_ACTION } from '../../bot/views/drift-alert.ts';
import { parseSpec } from '../../stages/catalog.ts';
import type { PipelineSpec } from '../../stages/spec.ts';
import { stateLabel } from '../../workflows/explain.ts';
import type { MonitorJob } from '../../workflows/jobs.ts';
import { isFinal } from '../../workflows/run-engine.ts';
import type { ModelView, RunDetail } from '../../workflows/run-service.ts';
import type { RunView } from '../../workflows/run-view.ts';
import type { DemoClient } from './api.ts';
import { DemoFailure, waitFor } from './failure.ts';
import { sendTraffic, trafficFrom } from './traffic.ts';

/** The people of the story, each with a credential of their own, and the role they hold. */
export type Cast = {
  /** Starts the first run and presses [Retrain now]: an operator. */
  requester: string;
  /** Approves the first run: an approver who is not the requester (four eyes). */
  approver: string;
  /** Presses [Retrain now] first and is refused: a viewer. */
  viewer: string;
};

export type DemoContext = {
  client: DemoClient;
  cast: Cast;
  pipeline: string;
  /** The demo's own copy of the spec, in its temporary directory. */
  specFile: string;
  /** The monitoring tick, enqueued as the scheduler enqueues it. */
  enqueueMonitor(job: MonitorJob): Promise<string | null>;
  /** How long one wait may take before the step fails. */
  timeoutMs: number;
  /** Aborted when the person stops the demo (Ctrl-C). */
  signal: AbortSignal;
  /** What the story has found so far, for the later steps and the summary. */
  facts: {
    firstRun?: number;
    version?: number;
    alert?: number;
    drifted?: string[];
    retrainRun?: number;
  };
};

export type DemoStep = {
  /** A short name, for the summary. */
  name: string;
  /** What the step does, as it starts. */
  title: string;
  /** Does it; answers what happened, in one line. */
  run(ctx: DemoContext, update: (detail: string) => void): Promise<string>;
};

type ConsoleMessage = {
  id: string;
  channel: string;
  text: string;
  blocks: unknown[] | null;
  ephemeral: boolean;
};
type Button = { action_id: string; value?: string };

const readSpec = async (file: string): Promise<PipelineSpec> =>
  parseSpec(await fs.readFile(file, 'utf8'), file);

export const DEMO_STEPS: DemoStep[] = [
  {
    name: 'train',
    title: 'train a monitored pipeline',
    async run(ctx, update) {
      const { cast, client, pipeline } = ctx;
      const { run } = await client.call<{ run: RunView }>(cast.requester, 'POST', '/api/runs', { pipeline });
      ctx.facts.firstRun = run.number;
      update(`${cast.requester} started #${run.number}`);
      await untilPast(ctx, run.number, TRAINING, update);
      const model = await newestModel(ctx);
      ctx.facts.version = model.version;
      return `${cast.requester} started #${run.number}; it trained ${model.modelType} v${model.version} (${metricsText(model.metrics)})`;
    },
  },
  {
    name: 'gate',
    title: 'reach the approval gate',
    async run(ctx, update) {
      const number = required(ctx.facts.firstRun, 'the first run');
      const detail = await untilState(ctx, number, 'awaitingApproval', update);
      update('waiting for the approval card in the console');
      const card = await waitFor(
        async () =>
          (await messagesOf(ctx, ctx.cast.approver)).find((m) =>
            buttonsOf(m).some((b) => b.action_id === APPROVE_ACTION && runOfValue(b.value) === number),
          ),
        {
          what: `the approval card of #${number} in the console`,
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
        },
      );
      const deadline = detail.run.deadline
        ? `, expires ${detail.run.deadline.slice(0, 16).replace('T', ' ')} UTC`
        : '';
      return `#${number} awaits approval; its card with [Approve] is in ${card.channel}${deadline}`;
    },
  },
  {
    name: 'approve',
    title: 'the approver approves',
    async run(ctx) {
      const number = required(ctx.facts.firstRun, 'the first run');
      const { cast, client } = ctx;
      await client.call(cast.approver, 'POST', `/api/runs/${number}/approve`, {});
      const { run } = await client.call<RunDetail>(cast.approver, 'GET', `/api/runs/${number}`);
      const by = run.approvals.map((a) => (a as { by?: string }).by).filter(Boolean);
      if (!by.includes(cast.approver) && run.state === 'awaitingApproval') {
        throw new DemoFailure(`#${number} still awaits approval after ${cast.approver} approved it`);
      }
      return `${cast.approver} approved #${number}, requested by ${run.requestedBy} (four eyes)`;
    },
  },
  {
    name: 'deploy',
    title: 'deploy to production',
    async run(ctx, update) {
      const number = required(ctx.facts.firstRun, 'the first run');
      await untilState(ctx, number, 'deployed', update);
      update('waiting for the model to serve');
      const version = await waitFor(
        async () => {
          const answer = await ctx.client.send(ctx.cast.requester, 'GET', `/v2/models/${ctx.pipeline}/ready`);
          const model = (await models(ctx)).find((m) => m.serving === 'production');
          return answer.status === 200 && model ? model.version : undefined;
        },
        {
          what: `${ctx.pipeline} to serve its production version`,
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
        },
      );
      ctx.facts.version = version;
      return `${ctx.pipeline} v${version} serves POST /v1/models/${ctx.pipeline}/predict`;
    },
  },
  {
    name: 'traffic',
    title: 'send traffic to the model',
    async run(ctx, update) {
      const spec = await readSpec(ctx.specFile);
      const rows = trafficFrom(spec, spec.monitoring.window, 1001);
      const sent = await sendTraffic(ctx.client.base, ctx.pipeline, rows, (n) =>
        update(`${n}/${rows.length} rows answered`),
      );
      return `${sent.rows} predictions from v${sent.versions.join(', v')} (${sent.positives} predicted to cancel)`;
    },
  },
  {
    name: 'drift',
    title: 'switch the source to drifted data, send drifted traffic',
    async run(ctx, update) {
      const before = await readSpec(ctx.specFile);
      const from = before.source.type === 'synthetic' ? before.source.drift : 0;
      await setSourceDrift(ctx.specFile, 1);
      const spec = await readSpec(ctx.specFile);
      const to = spec.source.type === 'synthetic' ? spec.source.drift : 0;
      update(`source.drift ${from} → ${to} in the demo's copy of ${ctx.pipeline}.yaml`);
      const rows = trafficFrom(spec, spec.monitoring.window, 2002);
      const sent = await sendTraffic(ctx.client.base, ctx.pipeline, rows, (n) =>
        update(`${n}/${rows.length} drifted rows answered`),
      );
      return `source.drift ${from} → ${to}; ${sent.rows} predictions on drifted rows (${sent.positives} predicted to cancel)`;
    },
  },
  {
    name: 'alert',
    title: 'the monitoring tick raises the drift alert',
    async run(ctx, update) {
      const { client, cast, pipeline } = ctx;
      const spec = await readSpec(ctx.specFile);
      // Every row sent so far is written before the tick, so the window is the newest traffic.
      update('waiting for the prediction log to be written');
      await waitFor(async () => ((await loggedRows(ctx)) >= 2 * spec.monitoring.window ? true : undefined), {
        what: 'the prediction log to hold the traffic sent',
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
      });
      const tickAt = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
      await ctx.enqueueMonitor({ pipeline, tickAt });
      update(`monitoring tick ${tickAt.slice(11, 19)} queued`);
      const report = await waitFor(
        async () => {
          const answer = await client.send(cast.requester, 'GET', `/api/pipelines/${pipeline}/drift`);
          const latest = answer.body as {
            tickAt: string | null;
            driftedColumns: string[];
            datasetDrift: boolean;
          };
          if (answer.status !== 200 || !latest.tickAt) return undefined;
          return new Date(latest.tickAt).getTime() >= new Date(tickAt).getTime() ? latest : undefined;
        },
        { what: `the monitoring check of ${tickAt}`, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
      );
      if (report.driftedColumns.length === 0) {
        throw new DemoFailure(
          `the monitoring check compared the last ${spec.monitoring.window} predictions with the training data and found no drifted feature, so no alert was raised`,
        );
      }
      const { alerts } = await client.call<{ alerts: { number: number; status: string; channel: string }[] }>(
        cast.requester,
        'GET',
        `/api/pipelines/${pipeline}/alerts`,
      );
      const alert = alerts.find((a) => a.status === 'firing');
      if (!alert)
        throw new DemoFailure(
          `the check found ${report.driftedColumns.join(', ')} drifted but no alert is firing`,
        );
      ctx.facts.alert = alert.number;
      ctx.facts.drifted = report.driftedColumns;
      update(`alert #${alert.number}: waiting for its page in ${alert.channel}`);
      await alertPage(ctx, cast.requester, alert.number);
      return `drift alert #${alert.number} in ${alert.channel}: ${report.driftedColumns.join(', ')} drifted`;
    },
  },
  {
    name: 'retrain',
    title: 'press [Retrain now]',
    async run(ctx, update) {
      const { cast } = ctx;
      const number = required(ctx.facts.alert, 'the drift alert');
      // A viewer may not retrain: the console answers them privately and starts nothing.
      const seen = new Set((await messagesOf(ctx, cast.viewer)).map((m) => m.id));
      await pressRetrain(ctx, cast.viewer, number);
      const refusal = await waitFor(
        async () =>
          (await messagesOf(ctx, cast.viewer)).find(
            (m) => m.ephemeral && !seen.has(m.id) && m.text.length > 0,
          ),
        { what: `the console's answer to ${cast.viewer}`, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
      );
      if ((await alertOf(ctx, number)).retrainRun !== null) {
        throw new DemoFailure(`${cast.viewer}, a viewer, started a retrain of drift alert #${number}`);
      }
      update(`${cast.viewer} refused: ${oneLine(refusal.text)}`);
      await pressRetrain(ctx, cast.requester, number);
      const run = await waitFor(async () => (await alertOf(ctx, number)).retrainRun ?? undefined, {
        what: `drift alert #${number} to start its retrain`,
        timeoutMs: ctx.timeoutMs,
        signal: ctx.signal,
      });
      ctx.facts.retrainRun = run;
      return `${cast.viewer} (viewer) was refused; ${cast.requester} (operator) started #${run}`;
    },
  },
  {
    name: 'retrain gate',
    title: 'the retrain reaches the approval gate',
    async run(ctx, update) {
      const number = required(ctx.facts.retrainRun, 'the retrain run');
      const { run } = await untilState(ctx, number, 'awaitingApproval', update);
      const alert = required(ctx.facts.alert, 'the drift alert');
      if (run.cause?.type !== 'drift' || run.cause.alert !== alert) {
        throw new DemoFailure(
          `#${number} does not say drift alert #${alert} started it (cause ${JSON.stringify(run.cause)})`,
        );
      }
      const model = await newestModel(ctx);
      return `#${number} awaits approval, started by drift alert #${alert} (${run.cause.features.slice(0, 3).join(', ')}); v${model.version} ${metricsText(model.metrics)}`;
    },
  },
];

/** The states a run passes before its model is trained and evaluated. */
const TRAINING = new Set(['queued', 'ingesting', 'checking', 'featurizing', 'training', 'evaluating']);

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new DemoFailure(`${what} is missing: an earlier step did not finish`);
  return value;
}

async function showRun(ctx: DemoContext, number: number): Promise<RunDetail> {
  return ctx.client.call<RunDetail>(ctx.cast.requester, 'GET', `/api/runs/${number}`);
}

/** Fails at once when the run ended: it will not get where the demo waits for it. */
function checkNotEnded(run: RunView, want: string): void {
  if (run.state === want || !isFinal(run.state)) return;
  const why = run.error
    ? `: ${(run.error as { message?: string }).message ?? JSON.stringify(run.error)}`
    : '';
  throw new DemoFailure(`#${run.number} ended ${stateLabel(run.state)}${why}`);
}

async function untilState(
  ctx: DemoContext,
  number: number,
  state: string,
  update: (detail: string) => void,
): Promise<RunDetail> {
  return waitFor(
    async () => {
      const detail = await showRun(ctx, number);
      update(`#${number} ${stateLabel(detail.run.state)}`);
      checkNotEnded(detail.run, state);
      return detail.run.state === state ? detail : undefined;
    },
    { what: `#${number} to be ${stateLabel(state)}`, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
  );
}

async function untilPast(
  ctx: DemoContext,
  number: number,
  states: ReadonlySet<string>,
  update: (detail: string) => void,
): Promise<RunDetail> {
  return waitFor(
    async () => {
      const detail = await showRun(ctx, number);
      update(`#${number} ${stateLabel(detail.run.state)}`);
      checkNotEnded(detail.run, 'awaitingApproval');
      return states.has(detail.run.state) ? undefined : detail;
    },
    { what: `#${number} to finish training`, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
  );
}

async function models(ctx: DemoContext): Promise<ModelView[]> {
  const { models } = await ctx.client.call<{ models: ModelView[] }>(
    ctx.cast.requester,
    'GET',
    `/api/models?pipeline=${encodeURIComponent(ctx.pipeline)}`,
  );
  return models;
}

async function newestModel(ctx: DemoContext): Promise<ModelView> {
  const newest = (await models(ctx)).sort((a, b) => b.version - a.version)[0];
  if (!newest) throw new DemoFailure(`${ctx.pipeline} has no model version after training`);
  return newest;
}

/** "roc_auc 0.842, accuracy 0.801": the headline metrics of a version. */
export function metricsText(metrics: Record<string, unknown>): string {
  const names = ['roc_auc', 'accuracy', 'f1', 'r2', 'rmse'];
  const shown = names
    .filter((n) => typeof metrics[n] === 'number')
    .slice(0, 2)
    .map((n) => `${n} ${(metrics[n] as number).toFixed(3)}`);
  return shown.join(', ') || 'no metrics';
}

async function messagesOf(ctx: DemoContext, person: string): Promise<ConsoleMessage[]> {
  const state = await ctx.client.call<{ messages: ConsoleMessage[] }>(person, 'GET', '/api/console/state');
  return state.messages;
}

function buttonsOf(message: ConsoleMessage): Button[] {
  return (message.blocks ?? []).flatMap((block) => {
    const { elements, accessory } = block as { elements?: unknown; accessory?: unknown };
    return [...(Array.isArray(elements) ? elements : []), accessory].filter(
      (e): e is Button => (e as { type?: string } | undefined)?.type === 'button',
    );
  });
}

function runOfValue(value: string | undefined): number | undefined {
  try {
    return (JSON.parse(value ?? '') as { run?: number }).run;
  } catch {
    return undefined;
  }
}

function alertOfValue(value: string | undefined): number | undefined {
  try {
    return (JSON.parse(value ?? '') as { alert?: number }).alert;
  } catch {
    return undefined;
  }
}

/** The alert's page that carries [Retrain now], once the console has it. */
async function alertPage(
  ctx: DemoContext,
  person: string,
  alert: number,
): Promise<{ page: ConsoleMessage; button: Button }> {
  return waitFor(
    async () => {
      for (const page of await messagesOf(ctx, person)) {
        const button = buttonsOf(page).find(
          (b) => b.action_id === RETRAIN_ACTION && alertOfValue(b.value) === alert,
        );
        if (button) return { page, button };
      }
      return undefined;
    },
    {
      what: `drift alert #${alert}'s page with [Retrain now] in the console`,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    },
  );
}

/** Presses [Retrain now] on the alert's page as `person`, as the console page does. */
async function pressRetrain(ctx: DemoContext, person: string, alert: number): Promise<void> {
  const { page, button } = await alertPage(ctx, person, alert);
  await ctx.client.call(person, 'POST', '/api/console/actions', {
    action_id: button.action_id,
    ...(button.value !== undefined ? { value: button.value } : {}),
    message: { channel: page.channel, id: page.id },
    click: randomUUID(),
  });
}

async function alertOf(ctx: DemoContext, number: number): Promise<{ retrainRun: number | null }> {
  const { alert } = await ctx.client.call<{ alert: { retrainRun: number | null } }>(
    ctx.cast.requester,
    'GET',
    `/api/alerts/${number}`,
  );
  return alert;
}

/** Rows the prediction log has written for the pipeline, from `GET /metrics`. */
async function loggedRows(ctx: DemoContext): Promise<number> {
  const answer = await ctx.client.send(ctx.cast.requester, 'GET', '/metrics');
  const text = typeof answer.body === 'string' ? answer.body : '';
  const line = text
    .split('\n')
    .find((l) => l.startsWith('steward_prediction_log_written_total') && l.includes(`"${ctx.pipeline}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

/** Sets `source.drift` in the spec file, keeping the rest of it (comments included) as it is. */
export async function setSourceDrift(file: string, drift: number): Promise<void> {
  const doc = parseDocument(await fs.readFile(file, 'utf8'));
  doc.setIn(['source', 'drift'], drift);
  await fs.writeFile(file, doc.toString());
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').replace(/[*_`]/g, '').trim();
