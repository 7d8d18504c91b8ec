import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { StageName, StageRequest, StageResult, StageSet } from '../stages/stage.ts';

export type StageHooks = {
  onProgress(message: string, fraction?: number): void;
  signal: AbortSignal;
};

/** Runs one stage attempt somewhere: in a worker thread (production) or inline (unit tests). */
export type StageExecutor = { run(request: StageRequest, hooks: StageHooks): Promise<StageResult> };

export class StageAbortedError extends Error {
  override readonly name = 'StageAbortedError';
}

/** The error for a stage the loaded stage module does not provide (both executors use it). */
export const missingStage = (stage: StageName) =>
  new Error(`stage \`${stage}\` is not available in this build of Steward, so the run cannot continue`);

/** Runs stages in this thread. For tests and tiny stages only: never for training. */
export function createInlineExecutor(stages: StageSet): StageExecutor {
  return {
    run(request, { onProgress, signal }) {
      const fn = stages[request.stage];
      if (!fn) return Promise.reject(missingStage(request.stage));
      return new Promise<StageResult>((resolve, reject) => {
        const abort = () => reject(new StageAbortedError(String(signal.reason ?? 'aborted')));
        if (signal.aborted) return abort();
        signal.addEventListener('abort', abort, { once: true });
        fn(request, { progress: onProgress, signal }).then(resolve, reject);
      });
    },
  };
}

const BOOTSTRAP = new URL('./stage-thread-bootstrap.mjs', import.meta.url);
const THREAD_ENTRY = new URL('./stage-thread.ts', import.meta.url);

export type ThreadMessage =
  | { type: 'progress'; message: string; fraction?: number }
  | { type: 'done'; result: StageResult }
  | { type: 'error'; message: string; stack?: string; fatal?: boolean };

/** How long an aborted stage has to stop by itself (cancel a query) before its thread is terminated. */
const ABORT_GRACE_MS = 1000;

/**
 * Runs each stage attempt in its own worker thread, so training never blocks the event
 * loop that answers Slack and heartbeats. `module` is the URL of a module exporting `stages`.
 * Aborting tells the stage (its `signal` aborts), then terminates the thread after
 * ABORT_GRACE_MS, whatever the stage does. Stages see this process's environment, with
 * `STEWARD_DATA_ROOTS` set to `dataRoots` when given (the configured ones).
 */
export function createThreadExecutor(
  module: URL,
  { dataRoots }: { dataRoots?: readonly string[] } = {},
): StageExecutor {
  const roots = dataRoots?.join(path.delimiter);
  return {
    run(request, { onProgress, signal }) {
      return new Promise<StageResult>((resolve, reject) => {
        if (signal.aborted) return reject(new StageAbortedError(String(signal.reason ?? 'aborted')));
        let settled = false;
        const settle = (fn: () => void) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          fn();
        };
        const worker = new Worker(BOOTSTRAP, {
          workerData: { entry: THREAD_ENTRY.href, module: module.href, request },
          ...(roots === undefined ? {} : { env: { ...process.env, STEWARD_DATA_ROOTS: roots } }),
        });
        const onAbort = () => {
          worker.postMessage({ type: 'abort', reason: String(signal.reason ?? 'aborted') });
          setTimeout(() => void worker.terminate(), ABORT_GRACE_MS).unref();
          settle(() => reject(new StageAbortedError(String(signal.reason ?? 'aborted'))));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        worker.on('message', (message: ThreadMessage) => {
          if (message.type === 'progress') onProgress(message.message, message.fraction);
          else if (message.type === 'done') settle(() => resolve(message.result));
          else {
            const error = Object.assign(new Error(message.message), {
              stack: message.stack,
              fatal: message.fatal === true,
            });
            settle(() => reject(error));
          }
        });
        worker.on('error', (error) => settle(() => reject(error)));
        worker.on('exit', (code) => settle(() => reject(new Error(`stage thread exited with code ${code}`))));
      });
    },
  };
}
