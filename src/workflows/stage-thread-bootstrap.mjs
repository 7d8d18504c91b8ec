// Worker threads do not inherit the TypeScript loader of the thread that made them
// (Node 20). Register it here when the entry is TypeScript, then load the entry.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
