import { describe, expect, it } from 'vitest';
import type { StageRequest } from '../src/stages/stage.ts';
import { createThreadExecutor, StageAbortedError } from '../src/workflows/stage-executor.ts';

const request = (stage: StageRequest['stage'], params: Record<string, string> = {}): StageRequest => ({
  run: { id: 'r', number: 1, pipeline: 'demo', kind: 'train', requestedBy: 'alice', params, spec: {} },
  stage,
  attempt: 1,
  inputs: {},
});

describe('worker-thread stage executor', () => {
  const executor = createThreadExecutor(new URL('./fixtures/test-stages.ts', import.meta.url));
  const noop = () => {};

  it('runs a TypeScript stage in a worker thread and relays its progress', async () => {
    const progress: string[] = [];
    const result = await executor.run(request('train', { sleep_train: '250' }), {
      onProgress: (message) => progress.push(message),
      signal: new AbortController().signal,
    });
    expect(result).toEqual({ output: { stage: 'train', attempt: 1 }, summary: { ok: true, attempt: 1 } });
    expect(progress).toEqual(['train: 0 ms', 'train: 100 ms', 'train: 200 ms']);
  });

  it('reports a stage error with its message', async () => {
    await expect(
      executor.run(request('checks', { fail_checks: '1' }), {
        onProgress: noop,
        signal: new AbortController().signal,
      }),
    ).rejects.toThrow('checks failed on purpose (attempt 1)');
  });

  it('terminates the thread when aborted', async () => {
    const controller = new AbortController();
    const running = executor.run(request('train', { sleep_train: '30000' }), {
      onProgress: noop,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort('shutdown'), 300);
    await expect(running).rejects.toBeInstanceOf(StageAbortedError);
  });

  it('fails clearly when the build has no such stage', async () => {
    const empty = createThreadExecutor(new URL('./fixtures/no-stages.ts', import.meta.url));
    await expect(
      empty.run(request('ingest'), { onProgress: noop, signal: new AbortController().signal }),
    ).rejects.toThrow('stage `ingest` is not available in this build of Steward');
  });
});
