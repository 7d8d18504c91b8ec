import {
  backoffSeconds,
  type ChatSurface,
  claimDue,
  delivered,
  deliveryFailed,
  forgetStale,
  type Outbox,
  type OutboxClaim,
  RUN_OUTBOX,
  releaseClaims,
  renewClaim,
} from '../../db/chat-outbox.ts';
import type { Database } from '../../db/client.ts';
import { loggableError } from '../../db/database-error.ts';
import type { Logger } from '../../log.ts';
import type { JobHandler } from './attempts.ts';

export type ChatDeliveryDeps = {
  database: Database;
  /** Brings one run's (or alert's) messages up to date on this surface. */
  deliver: (id: string) => Promise<void>;
  surface: ChatSurface;
  /** @default RUN_OUTBOX (runs' messages); ALERT_OUTBOX delivers drift alerts. */
  outbox?: Outbox;
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
  const outbox = deps.outbox ?? RUN_OUTBOX;
  const subject = outbox === RUN_OUTBOX ? 'runId' : 'alertId';
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
        void renewClaim(database.db, surface, workerId, claim, leaseSeconds, outbox).catch((error: Error) =>
          log.warn('could not renew a chat delivery lease', { error }),
        ),
      (leaseSeconds * 1000) / 3,
    );
    try {
      await deps.deliver(claim.id);
      failing.delete(claim.id);
      await delivered(database.db, surface, workerId, claim, outbox);
    } catch (error) {
      const message = loggableError(error);
      if ((error as { permanent?: unknown }).permanent === true) {
        // Trying again cannot help (the chat service refused for good): say what to fix,
        // once, and drop the mark; the run's next event tries once more.
        failing.set(claim.id, message);
        log.error('chat refused these messages; not retrying until the next event', {
          [subject]: claim.id,
          surface,
          error: message,
        });
        await delivered(database.db, surface, workerId, claim, outbox);
        return;
      }
      const failures = claim.failures + 1;
      const backoff = (deps.backoff ?? backoffSeconds)(failures);
      await deliveryFailed(database.db, surface, workerId, claim, message, backoff, outbox);
      const fields = { [subject]: claim.id, surface, failures, retryInSeconds: backoff, error: message };
      if (failures >= FAILING_AFTER) {
        failing.set(claim.id, message);
        log.error('chat messages are not getting through; still retrying', fields);
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
      .finally(() => inFlight.delete(claim.id));
    inFlight.set(claim.id, done);
    return done;
  }

  return {
    name: `${outbox === RUN_OUTBOX ? 'chat' : 'alerts'}:${surface}`,
    pollMs: deps.pollMs,
    async round() {
      const free = concurrency - inFlight.size;
      if (free <= 0 || stopping) return [];
      if (performance.now() - checkedStaleAt > STALE_CHECK_MS) {
        checkedStaleAt = performance.now();
        const forgotten = await forgetStale(database.db, surface, STALE_AFTER_HOURS, outbox);
        if (forgotten > 0) log.info('forgot chat marks older than a day', { surface, marks: forgotten });
      }
      return (await claimDue(database.db, { surface, workerId, limit: free, leaseSeconds, outbox })).map(
        launch,
      );
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
        await releaseClaims(database.db, surface, workerId, outbox).catch(() => {});
      }
    },
    health() {
      const last = [...failing.values()].at(-1);
      return { failing: failing.size, ...(last ? { lastError: last } : {}) };
    },
  };
}
