import { Worker } from 'node:worker_threads';
import { type ErrorCode, StewardError } from '../errors.ts';
import type { Table } from '../stages/data/table.ts';
import type { DriftOptions, DriftReport } from '../stages/drift/index.ts';

const BOOTSTRAP = new URL('./stage-thread-bootstrap.mjs', import.meta.url);
const ENTRY = new URL('./drift-thread-entry.ts', import.meta.url);

export type DriftComparer = {
  compare(reference: Table, current: Table, options: DriftOptions): Promise<DriftReport>;
  /** Ends the thread; the next comparison starts a new one. */
  close(): Promise<void>;
};

type Reply = { id: number; report?: DriftReport; error?: string; code?: ErrorCode };

/**
 * Drift comparisons in a worker thread of their own, started on the first one and kept:
 * a check of a large window sorts and sweeps millions of values, which must not hold the
 * event loop that answers chat, HTTP and heartbeats. The tables are copied to the thread
 * (typed arrays and strings), the report copied back.
 */
export function createDriftComparer(): DriftComparer {
  let worker: Worker | undefined;
  let next = 1;
  const waiting = new Map<number, { resolve(r: DriftReport): void; reject(e: Error): void }>();

  function failAll(error: Error) {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
    worker = undefined;
  }

  function start(): Worker {
    const w = new Worker(BOOTSTRAP, { workerData: { entry: ENTRY.href } });
    w.unref();
    w.on('message', (reply: Reply) => {
      const pending = waiting.get(reply.id);
      if (!pending) return;
      waiting.delete(reply.id);
      if (waiting.size === 0) w.unref();
      if (reply.report) pending.resolve(reply.report);
      else {
        const message = reply.error ?? 'the drift thread gave no report';
        pending.reject(reply.code ? new StewardError(reply.code, message) : new Error(message));
      }
    });
    w.on('error', (error) => failAll(error));
    w.on('exit', (code) => failAll(new Error(`the drift thread exited with code ${code}`)));
    return w;
  }

  return {
    compare(reference, current, options) {
      worker ??= start();
      const w = worker;
      const id = next++;
      return new Promise<DriftReport>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        // Held while a comparison is waiting, so a short-lived command still gets its answer.
        w.ref();
        w.postMessage({ id, reference, current, options });
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      await w?.terminate();
    },
  };
}
