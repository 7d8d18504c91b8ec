import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type App, openApp, VERSION } from '../../app.ts';
import { PERSONAS } from '../../bot/console/console.ts';
import { loadConfig } from '../../config.ts';
import { isStewardError } from '../../errors.ts';
import { readLocalSecret } from '../../http/local-secret.ts';
import { createLogger } from '../../log.ts';
import { LOCAL_USER } from '../../workflows/identity.ts';
import { startUrlLine } from '../start-url.ts';
import { createDemoClient, type DemoClient } from './api.ts';
import { DemoFailure } from './failure.ts';
import { createProgress, type ProgressSink } from './progress.ts';
import { type Cast, DEMO_STEPS, type DemoContext, type DemoStep } from './steps.ts';
import { type StepRecord, summaryTable } from './summary.ts';

/** The pipeline the demo plays, copied from the repository's `pipelines/` into its own directory. */
export const DEMO_PIPELINE = 'subscriptions';
const SPEC_FILE = fileURLToPath(new URL(`../../../pipelines/${DEMO_PIPELINE}.yaml`, import.meta.url));

/** The demo console's team: Ana (operator) asks, Ben (approver) approves, Vic (viewer) only looks. */
const personaWith = (grant: string) => PERSONAS.find((p) => p.grant === grant)?.id ?? grant;
export const DEMO_CAST: Cast = {
  requester: personaWith('operator'),
  approver: personaWith('approver'),
  viewer: personaWith('viewer'),
};

export type DemoOptions = {
  /** Leave Steward running after the summary, and print where to look (`--open`). */
  open: boolean;
  /** The HTTP port. @default 0: a free one */
  port: number;
  /** Where lines go: `out` for the story, `err` for why it failed. */
  io: { out(line: string): void; err(line: string): void };
  /** Where the progress display writes; a terminal gets a spinner. @default lines through io.out */
  sink?: ProgressSink;
  /** The caller's environment: only STEWARD_LOG_LEVEL and NO_COLOR are read from it. */
  env: NodeJS.ProcessEnv;
  /** How long one wait of a step may take. @default 90000 */
  timeoutMs?: number;
  /** The steps to play. @default DEMO_STEPS */
  steps?: DemoStep[];
  cast?: Cast;
};

/**
 * The environment of the demo's own Steward: a fresh data dir and a pipelines dir holding
 * only the demo's spec, the embedded database whatever DATABASE_URL says, no Slack, no LLM,
 * the console with its person switcher, on loopback.
 */
export function demoEnv(env: NodeJS.ProcessEnv, dir: string, port: number): NodeJS.ProcessEnv {
  return {
    STEWARD_DATA_DIR: path.join(dir, 'data'),
    STEWARD_PIPELINES_DIR: path.join(dir, 'pipelines'),
    PORT: String(port),
    HOST: '127.0.0.1',
    STEWARD_CONSOLE: 'demo',
    STEWARD_LOG_LEVEL: env.STEWARD_LOG_LEVEL || 'warn',
    ...(env.STEWARD_LOG_FORMAT ? { STEWARD_LOG_FORMAT: env.STEWARD_LOG_FORMAT } : {}),
  };
}

/** `steward demo [--open] [--port N]`: plays Steward's whole loop; resolves to the exit code. */
export async function demoCommand(options: DemoOptions): Promise<number> {
  const { io } = options;
  const steps = options.steps ?? DEMO_STEPS;
  const cast = options.cast ?? DEMO_CAST;
  const sink: ProgressSink = options.sink ?? linesOf(io);
  const progress = createProgress({ sink, env: options.env });
  const stopped = new AbortController();
  const onSignal = () => stopped.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-demo-'));
  const records: StepRecord[] = [];
  const began = performance.now();
  let app: App | undefined;
  let failed: StepRecord | undefined;
  try {
    const label = `[0/${steps.length}]`;
    progress.start(label, 'start Steward on a fresh embedded database');
    let base: string;
    let client: DemoClient;
    try {
      ({ app, base, client } = await startSteward(options, dir, cast));
      records.push({
        label,
        name: 'start',
        ms: progress.done(`${base} (embedded database in ${dir})`),
        ok: true,
        result: `steward start on ${base}`,
      });
    } catch (error) {
      failed = {
        label,
        name: 'start',
        ms: progress.fail(messageOf(error)),
        ok: false,
        result: messageOf(error),
      };
      records.push(failed);
      throw error;
    }
    const ctx: DemoContext = {
      client,
      cast,
      pipeline: DEMO_PIPELINE,
      specFile: path.join(dir, 'pipelines', `${DEMO_PIPELINE}.yaml`),
      enqueueMonitor: (job) => (app as App).jobs.enqueueMonitor(job),
      timeoutMs: options.timeoutMs ?? 90_000,
      signal: stopped.signal,
      facts: {},
    };
    for (const [i, step] of steps.entries()) {
      const stepLabel = `[${i + 1}/${steps.length}]`;
      progress.start(stepLabel, step.title);
      try {
        const result = await step.run(ctx, (detail) => progress.update(detail));
        records.push({ label: stepLabel, name: step.name, ms: progress.done(result), ok: true, result });
      } catch (error) {
        const why = messageOf(error);
        failed = { label: stepLabel, name: step.name, ms: progress.fail(why), ok: false, result: why };
        records.push(failed);
        break;
      }
      if (stopped.signal.aborted) break;
    }
    progress.stop();
    io.out('');
    io.out(summaryTable(records, performance.now() - began));
    if (stopped.signal.aborted) {
      io.err(`steward demo stopped${failed ? ` during step ${failed.label} ${failed.name}` : ''}`);
      return 130;
    }
    if (failed) {
      io.err(`steward demo failed at step ${failed.label} ${failed.name}: ${failed.result}`);
      return 1;
    }
    if (options.open && app) await stayOpen(app, ctx, options, stopped.signal, sink.isTTY);
    return 0;
  } catch (error) {
    progress.stop();
    if (records.length) io.out(summaryTable(records, performance.now() - began));
    io.err(
      `steward demo failed at ${failed ? `step ${failed.label} ${failed.name}` : 'start'}: ${messageOf(error)}`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await app?.close(1000).catch((error: Error) => io.err(`Steward did not stop cleanly: ${error.message}`));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens the demo's Steward, serves it, and gives each of the cast a token of their own. */
async function startSteward(options: DemoOptions, dir: string, cast: Cast) {
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.copyFileSync(SPEC_FILE, path.join(dir, 'pipelines', `${DEMO_PIPELINE}.yaml`));
  const config = loadConfig(demoEnv(options.env, dir, options.port));
  const log = createLogger({ level: config.logLevel });
  const app = await openApp({ config, log, command: 'demo' });
  try {
    app.worker.start();
    const server = await app.listen().catch((error: unknown) => {
      // listen names PORT; the demo's port is its --port.
      if (isStewardError(error) && error.code === 'CONFIG_INVALID' && options.port !== 0) {
        throw new DemoFailure(
          `port ${options.port} is in use; choose another with --port, or leave --port out for a free one`,
        );
      }
      throw error;
    });
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : config.port;
    const base = `http://localhost:${port}`;
    const client = createDemoClient(base);
    const secret = readLocalSecret(config.dataDir);
    if (!secret) throw new DemoFailure(`the data dir ${config.dataDir} has no secret`);
    client.setToken(LOCAL_USER, secret);
    // Identity comes from a credential: each person's own API token, made by the admin.
    for (const person of new Set([cast.requester, cast.approver, cast.viewer])) {
      const made = await client.call<{ token: string }>(LOCAL_USER, 'POST', '/api/tokens', {
        user: person,
        name: 'steward demo',
      });
      client.setToken(person, made.token);
    }
    return { app, base, client, port };
  } catch (error) {
    await app.close(0).catch(() => {});
    throw error;
  }
}

/** `--open`: where to look at the same story, then serve until Ctrl-C. */
async function stayOpen(app: App, ctx: DemoContext, options: DemoOptions, signal: AbortSignal, tty: boolean) {
  const { io } = options;
  const base = ctx.client.base;
  const port = Number(new URL(base).port);
  io.out('');
  io.out(startUrlLine(app.config, port, tty));
  io.out('The console plays the demo team: choose Ana, Ben or Vic under "Act as" to see the story as each.');
  for (const run of [ctx.facts.firstRun, ctx.facts.retrainRun]) {
    if (run !== undefined) io.out(`Run #${run}: ${base}/runs/${run}`);
  }
  io.out(`Model ${ctx.pipeline}: ${base}/models/${ctx.pipeline}`);
  io.out(`Steward ${VERSION} keeps running; Ctrl-C stops it and deletes the demo's data.`);
  if (signal.aborted) return;
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function linesOf(io: DemoOptions['io']): ProgressSink {
  let pending = '';
  return {
    isTTY: false,
    write(text) {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) io.out(line);
    },
  };
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
