import fs from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { APPROVE_ACTION } from '../../bot/views/approval-card.ts';
import { parseSpec } from '../../stages/catalog.ts';
import type { PipelineSpec } from '../../stages/spec.ts';
import { stateLabel } from '../../workflows/explain.ts';
import type { RunDetail } from '../../workflows/run-service.ts';
import type { RunView } from '../../workflows/run-view.ts';
import type { DemoStep } from './context.ts';
import { DemoFailure, waitFor } from './failure.ts';
import {
  alertOf,
  alertPage,
  buttonsOf,
  loggedRows,
  messagesOf,
  metricsText,
  models,
  newestModel,
  pressRetrain,
  required,
  runOfValue,
  TRAINING,
  untilPast,
  untilState,
} from './reads.ts';
import { sendTraffic, trafficFrom } from './traffic.ts';

/**
 * The story `steward demo` plays, step by step, each through Steward's own surfaces: the
 * REST API with each person's token, the console's actions, the serving endpoint, and the
 * monitoring job queue the scheduler feeds.
 */
export type { Cast, DemoContext, DemoStep } from './context.ts';

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
      if (!run.approvals.some((a) => a.by === cast.approver)) {
        throw new DemoFailure(
          `#${number} does not record ${cast.approver}'s approval (it is ${stateLabel(run.state)})`,
        );
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

/** Sets `source.drift` in the spec file, keeping the rest of it (comments included) as it is. */
export async function setSourceDrift(file: string, drift: number): Promise<void> {
  const doc = parseDocument(await fs.readFile(file, 'utf8'));
  doc.setIn(['source', 'drift'], drift);
  await fs.writeFile(file, doc.toString());
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').replace(/[*_`]/g, '').trim();
