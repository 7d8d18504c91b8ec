import { parentPort } from 'node:worker_threads';
import { isStewardError } from '../errors.ts';
import type { Table } from '../stages/data/table.ts';
import { compareTables, type DriftOptions } from '../stages/drift/index.ts';

/** Inside the drift thread: one comparison per message, answered with its id. */
parentPort?.on(
  'message',
  ({
    id,
    reference,
    current,
    options,
  }: {
    id: number;
    reference: Table;
    current: Table;
    options: DriftOptions;
  }) => {
    try {
      parentPort?.postMessage({ id, report: compareTables(reference, current, options) });
    } catch (error) {
      // A StewardError's code (BAD_REQUEST for a test a column cannot take) crosses with it.
      const code = isStewardError(error) ? error.code : undefined;
      parentPort?.postMessage({ id, error: (error as Error).message, code });
    }
  },
);
