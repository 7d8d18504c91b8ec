// What the demo's steps read from Steward and press in it, each through its HTTP API.
import { randomUUID } from 'node:crypto';
import { RETRAIN_ACTION } from '../../bot/views/drift-alert.ts';
import { stateLabel } from '../../workflows/explain.ts';
import { isFinal } from '../../workflows/run-engine.ts';
import type { ModelView, RunDetail } from '../../workflows/run-service.ts';
import type { RunView } from '../../workflows/run-view.ts';
import type { Button, ConsoleMessage, DemoContext } from './context.ts';
import { DemoFailure, waitFor } from './failure.ts';

/** The states a run passes before its model is trained and evaluated. */
export const TRAINING = new Set(['queued', 'ingesting', 'checking', 'featurizing', 'training', 'evaluating']);

export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new DemoFailure(`${what} is missing: an earlier step did not finish`);
  return value;
}

export async function showRun(ctx: DemoContext, number: number): Promise<RunDetail> {
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

/** Polls run `number` until `reached(state)`; fails at once when it ends anywhere but `want`. */
function untilRun(
  ctx: DemoContext,
  number: number,
  { want, reached, what }: { want: string; reached: (state: string) => boolean; what: string },
  update: (detail: string) => void,
): Promise<RunDetail> {
  return waitFor(
    async () => {
      const detail = await showRun(ctx, number);
      update(`#${number} ${stateLabel(detail.run.state)}`);
      checkNotEnded(detail.run, want);
      return reached(detail.run.state) ? detail : undefined;
    },
    { what: `#${number} ${what}`, timeoutMs: ctx.timeoutMs, signal: ctx.signal },
  );
}

export function untilState(
  ctx: DemoContext,
  number: number,
  state: string,
  update: (detail: string) => void,
): Promise<RunDetail> {
  const what = `to be ${stateLabel(state)}`;
  return untilRun(ctx, number, { want: state, reached: (s) => s === state, what }, update);
}

export function untilPast(
  ctx: DemoContext,
  number: number,
  states: ReadonlySet<string>,
  update: (detail: string) => void,
): Promise<RunDetail> {
  const what = 'to finish training';
  return untilRun(ctx, number, { want: 'awaitingApproval', reached: (s) => !states.has(s), what }, update);
}

export async function models(ctx: DemoContext): Promise<ModelView[]> {
  const { models } = await ctx.client.call<{ models: ModelView[] }>(
    ctx.cast.requester,
    'GET',
    `/api/models?pipeline=${encodeURIComponent(ctx.pipeline)}`,
  );
  return models;
}

export async function newestModel(ctx: DemoContext): Promise<ModelView> {
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

export async function messagesOf(ctx: DemoContext, person: string): Promise<ConsoleMessage[]> {
  const state = await ctx.client.call<{ messages: ConsoleMessage[] }>(person, 'GET', '/api/console/state');
  return state.messages;
}

export function buttonsOf(message: ConsoleMessage): Button[] {
  return (message.blocks ?? []).flatMap((block) => {
    const { elements, accessory } = block as { elements?: unknown; accessory?: unknown };
    return [...(Array.isArray(elements) ? elements : []), accessory].filter(
      (e): e is Button => (e as { type?: string } | undefined)?.type === 'button',
    );
  });
}

export function runOfValue(value: string | undefined): number | undefined {
  try {
    return (JSON.parse(value ?? '') as { run?: number }).run;
  } catch {
    return undefined;
  }
}

export function alertOfValue(value: string | undefined): number | undefined {
  try {
    return (JSON.parse(value ?? '') as { alert?: number }).alert;
  } catch {
    return undefined;
  }
}

/** The alert's page that carries [Retrain now], once the console has it. */
export async function alertPage(
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
export async function pressRetrain(ctx: DemoContext, person: string, alert: number): Promise<void> {
  const { page, button } = await alertPage(ctx, person, alert);
  await ctx.client.call(person, 'POST', '/api/console/actions', {
    action_id: button.action_id,
    ...(button.value !== undefined ? { value: button.value } : {}),
    message: { channel: page.channel, id: page.id },
    click: randomUUID(),
  });
}

export async function alertOf(ctx: DemoContext, number: number): Promise<{ retrainRun: number | null }> {
  const { alert } = await ctx.client.call<{ alert: { retrainRun: number | null } }>(
    ctx.cast.requester,
    'GET',
    `/api/alerts/${number}`,
  );
  return alert;
}

/** Rows the prediction log has written for the pipeline, from `GET /metrics`. */
export async function loggedRows(ctx: DemoContext): Promise<number> {
  const answer = await ctx.client.send(ctx.cast.requester, 'GET', '/metrics');
  const text = typeof answer.body === 'string' ? answer.body : '';
  const line = text
    .split('\n')
    .find((l) => l.startsWith('steward_prediction_log_written_total') && l.includes(`"${ctx.pipeline}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}
