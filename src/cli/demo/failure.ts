import { setTimeout as sleep } from 'node:timers/promises';

/** Why a step of `steward demo` failed, in words that say what went wrong. */
export class DemoFailure extends Error {
  override readonly name = 'DemoFailure';
}

export type WaitOptions = {
  /** What is awaited, for the failure message ("run #1 to await approval"). */
  what: string;
  /** @default 60000 */
  timeoutMs?: number;
  /** @default 200 */
  pollMs?: number;
  /** Stops the wait (Ctrl-C): a DemoFailure saying it was stopped. */
  signal?: AbortSignal;
};

/**
 * Polls `probe` until it answers something other than undefined. A probe may throw a
 * DemoFailure to stop at once (a run that failed will not reach its gate); running out of
 * time is a DemoFailure naming what never happened.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (options.signal?.aborted) throw new DemoFailure(`stopped while waiting for ${options.what}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new DemoFailure(
        `gave up waiting for ${options.what} after ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`,
      );
    }
    await sleep(options.pollMs ?? 200, undefined, options.signal ? { signal: options.signal } : {}).catch(
      () => {},
    );
  }
}
