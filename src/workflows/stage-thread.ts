import { parentPort, workerData } from 'node:worker_threads';
import {
  isFatal,
  readableMessage,
  readableStack,
  type StageRequest,
  type StageSet,
} from '../stages/stage.ts';
import { missingStage, type ThreadMessage } from './stage-executor.ts';

/** Inside a worker thread: load the stage module, run one stage, post the result back. */
const { module, request } = workerData as { module: string; request: StageRequest };
const post = (message: ThreadMessage) => parentPort?.postMessage(message);
// The executor says so before it terminates the thread, so a stage can stop cleanly (a SQL
// source cancels its query on the server). Listening must not keep the thread alive.
const controller = new AbortController();
parentPort?.on('message', (message: { type?: string; reason?: string }) => {
  if (message.type === 'abort') controller.abort(message.reason);
});
parentPort?.unref();

try {
  const { stages } = (await import(module)) as { stages: StageSet };
  const fn = stages[request.stage];
  if (!fn) throw missingStage(request.stage);
  const result = await fn(request, {
    progress: (message, fraction) =>
      post({ type: 'progress', message, ...(fraction === undefined ? {} : { fraction }) }),
    signal: controller.signal,
  });
  post({ type: 'done', result: result ?? {} });
} catch (error) {
  const stack = readableStack(error);
  post({
    type: 'error',
    message: readableMessage(error),
    fatal: isFatal(error),
    ...(stack ? { stack } : {}),
  });
}
