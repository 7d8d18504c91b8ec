import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli.ts';
import { readLock } from '../../src/db/lock.ts';
import { noStore } from '../../src/stages/store.ts';
import type { RunDetail } from '../../src/workflows/run-service.ts';
import { type Backend, seedDataDir, type TestDatabase, testDatabase } from './database.ts';
import { keepLog } from './suite-logs.ts';

const LAUNCHER = fileURLToPath(new URL('../fixtures/steward.ts', import.meta.url));
export const PIPELINES = fileURLToPath(new URL('../fixtures/pipelines', import.meta.url));
const STAGES = new URL('../fixtures/test-stages.ts', import.meta.url);

/**
 * The environment of a `steward` process test: a data dir of its own (on PGlite holding an
 * already migrated database), the test pipelines, a two-second lease, free ports, and on
 * PostgreSQL a database of its own. `cleanup` removes both.
 */
export async function processEnv(
  backend: Backend,
  extra: NodeJS.ProcessEnv = {},
): Promise<{ env: NodeJS.ProcessEnv; dir: string; cleanup(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-proc-'));
  const env: NodeJS.ProcessEnv = {
    STEWARD_DATA_DIR: path.join(dir, 'data'),
    STEWARD_PIPELINES_DIR: PIPELINES,
    STEWARD_LEASE_SECONDS: '2',
    STEWARD_LOG_LEVEL: 'info',
    PORT: '0',
    STEWARD_METRICS_PORT: '0',
    DATABASE_URL: '',
    ...extra,
  };
  let db: TestDatabase | undefined;
  if (backend === 'postgres') {
    db = await testDatabase('postgres');
    env.DATABASE_URL = db.url;
  } else {
    await seedDataDir(String(env.STEWARD_DATA_DIR));
  }
  return {
    env,
    dir,
    async cleanup() {
      await db?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Proc = { child: ChildProcess; output(): string; exited: Promise<number | null> };

/** Starts `steward <args>` (with the test stages) as a separate process. */
export function spawnSteward(args: string[], env: NodeJS.ProcessEnv): Proc {
  return spawnNode(['--import', 'tsx', LAUNCHER, ...args], { ...process.env, ...env }, args[0]);
}

/** A node process with `argv`, its output kept (and saved with the suite's logs when it exits). */
export function spawnNode(argv: string[], env: NodeJS.ProcessEnv, name = 'process', cwd?: string): Proc {
  const child = spawn(process.execPath, argv, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(cwd ? { cwd } : {}),
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      keepLog(`steward-${name}-${child.pid}`, chunks.join(''));
      resolve(code);
    }),
  );
  return { child, output: () => chunks.join(''), exited };
}

/**
 * Runs a CLI command in this process; returns exit code and what it printed. With `real`
 * it runs Steward's own stages instead of the stand-ins.
 */
export async function cli(
  args: string[],
  env: NodeJS.ProcessEnv,
  real = false,
): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(
    args,
    real ? {} : { stagesModule: STAGES, store: noStore },
    { out: (l) => out.push(`${l}\n`), err: (l) => err.push(`${l}\n`) },
    { ...process.env, STEWARD_LOG_LEVEL: 'silent', ...env },
  );
  return { code, out: out.join(''), err: err.join('') };
}

/** `env` with STEWARD_TOKEN set to a new personal token of `user`: the CLI then acts as them. */
export async function asUser(user: string, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const made = await cli(['token', 'create', user, '--name', 'test'], env);
  if (made.code !== 0) throw new Error(`token create ${user} failed: ${made.err}`);
  return { ...env, STEWARD_TOKEN: made.out.trim() };
}

export async function show(run: number, env: NodeJS.ProcessEnv): Promise<RunDetail> {
  const result = await cli(['show', String(run), '--json'], env);
  if (result.code !== 0) throw new Error(`show #${run} failed: ${result.err}`);
  return JSON.parse(result.out) as RunDetail;
}

/** Polls until `check` returns a value, or fails after `ms` with the last error. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  ms = 30_000,
  what = 'condition',
): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    await sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function waitForState(run: number, state: string, env: NodeJS.ProcessEnv, ms = 30_000) {
  return eventually(
    async () => {
      const detail = await show(run, env);
      return detail.run.state === state ? detail : undefined;
    },
    ms,
    `run #${run} to be ${state}`,
  );
}

/** The URL of the `steward start` that holds `env`'s data dir, from its lock file. */
export function serverUrlOf(env: NodeJS.ProcessEnv): string {
  const port = readLock(String(env.STEWARD_DATA_DIR))?.port;
  if (!port) throw new Error(`no steward serves ${env.STEWARD_DATA_DIR}`);
  return `http://127.0.0.1:${port}`;
}

/** Waits until a `steward start` prints that it is up. */
export async function waitUntilUp(proc: Proc, ms = 30_000): Promise<void> {
  await eventually(
    async () => proc.output().includes(' is up on '),
    ms,
    `steward to start; output:\n${proc.output()}`,
  );
}

export async function kill(proc: Proc, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  proc.child.kill(signal);
  return proc.exited;
}
