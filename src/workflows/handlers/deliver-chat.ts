import {
  backoffSeconds,
  type ChatSurface,
  claimDue,
  delivered,
  deliveryFailed,
  forgetStale,
  type OutboxClaim,
  releaseClaims,
  renewClaim,
} from '../../db/chat-outbox.ts';
import type { Database } from '../../db/client.ts';
import { loggableError } from '../../db/database-error.ts';
import type { Logger } from '../../log.ts';
import type { JobHandler } from './attempts.ts';

export type ChatDeliveryDeps = {
  database: Database;
  /** Brings one run's messages up to date on this surface. */
  deliver: (runId: string) => Promise<void>;
  surface: ChatSurface;
  log: Logger;
  workerId: string;
  /** Deliveries in flight at once; each holds only its own run. @default 4 */
  concurrency?: number;
  /** A delivery's lease, renewed while it runs; a process that dies holding one frees it after this. @default 60 */
  leaseSeconds?: number;
  pollMs: number;
  /** Seconds to wait before retrying after `failures` failures in a row. @default 2 s, 4 s … 5 min */
  backoff?: (failures: number) => number;
};

/** Marks older than this are forgotten rather than delivered (checked every 10 minutes). */
export const STALE_AFTER_HOURS = 24;
const STALE_CHECK_MS = 10 * 60_000;

/** Failures in a row after which a run's messages count as undeliverable (logged as an error, shown on /healthz). */
export const FAILING_AFTER = 3;

export type ChatDelivery = JobHandler & {
  stop(graceMs: number): Promise<void>;
  /** Runs whose messages failed `FAILING_AFTER` times or more in a row here, and the last error. */
  health(): { failing: number; lastError?: string };
};

/**
 * Delivers chat messages from the outbox, in its own loop, off the path that runs stages:
 * a chat service that never answers delays only the runs whose deliveries it holds.
 */
export function createChatDelivery(deps: ChatDeliveryDeps): ChatDelivery {
  const { database, surface, log, workerId } = deps;
  const concurrency = deps.concurrency ?? 4;
  const leaseSeconds = deps.leaseSeconds ?? 60;
  const inFlight = new Map<string, Promise<void>>();
  const failing = new Map<string, string>();
  let stopping = false;
  let checkedStaleAt = Number.NEGATIVE_INFINITY;

  async function deliverOne(claim: OutboxClaim): Promise<void> {
    // The lease is renewed while the delivery runs (each chat call has its own timeout and
    // bounded retries), so no other round or process takes this run's row meanwhile: one
    // delivery per run at a time, however slow the chat service is.
    const renew = setInterval(
      () =>
        void renewClaim(database.db, surface, workerId, claim, leaseSeconds).catch((error: Error) =>
          log.warn('could not renew a chat delivery lease', { error }),
        ),
      (leaseSeconds * 1000) / 3,
    );
    try {
      await deps.deliver(claim.runId);
      failing.delete(claim.runId);
      await delivered(database.db, surface, workerId, claim);
    } catch (error) {
      const message = loggableError(error);
      if ((error as { permanent?: unknown }).permanent === true) {
        // Trying again cannot help (the chat service refused for good): say what to fix,
        // once, and drop the mark; the run's next event tries once more.
        failing.set(claim.runId, message);
        log.error('chat refused a run’s messages; not retrying until its next event', {
          runId: claim.runId,
          surface,
          error: message,
        });
        await delivered(database.db, surface, workerId, claim);
        return;
      }
      const failures = claim.failures + 1;
      const backoff = (deps.backoff ?? backoffSeconds)(failures);
      await deliveryFailed(database.db, surface, workerId, claim, message, backoff);
      const fields = { runId: claim.runId, surface, failures, retryInSeconds: backoff, error: message };
      if (failures >= FAILING_AFTER) {
        failing.set(claim.runId, message);
        log.error('chat messages of a run are not getting through; still retrying', fields);
      } else {
        log.warn('chat delivery failed; it will be retried', fields);
      }
    } finally {
      clearInterval(renew);
    }
  }

  function launch(claim: OutboxClaim): Promise<void> {
    const done = deliverOne(claim)
      .catch((error: Error) => log.error('chat delivery could not record its outcome', { error }))
      .finally(() => inFlight.delete(claim.runId));
    inFlight.set(claim.runId, done);
    return done;
  }

  return {
    name: `chat:${surface}`,
    pollMs: deps.pollMs,
    async round() {
      const free = concurrency - inFlight.size;
      if (free <= 0 || stopping) return [];
      if (performance.now() - checkedStaleAt > STALE_CHECK_MS) {
        checkedStaleAt = performance.now();
        const forgotten = await forgetStale(database.db, surface, STALE_AFTER_HOURS);
        if (forgotten > 0) log.info('forgot chat marks older than a day', { surface, runs: forgotten });
      }
      return (await claimDue(database.db, { surface, workerId, limit: free, leaseSeconds })).map(launch);
    },
    async stop(graceMs) {
      stopping = true;
      if (inFlight.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(inFlight.values()),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (inFlight.size > 0) {
        log.warn('chat deliveries still waiting for an answer at shutdown; another process takes them over', {
          count: inFlight.size,
        });
        await releaseClaims(database.db, surface, workerId).catch(() => {});
      }
    },
    health() {
      const last = [...failing.values()].at(-1);
      return { failing: failing.size, ...(last ? { lastError: last } : {}) };
    },
  };
}
