import { ALERT_OUTBOX, type ChatSurface, type Outbox, RUN_OUTBOX } from '../db/chat-outbox.ts';
import type { Database } from '../db/client.ts';
import { loggableError } from '../db/database-error.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { noStore, type StageStore } from '../stages/store.ts';
import { type Clock, databaseClock } from './clock.ts';
import type { JobHandler } from './handlers/attempts.ts';
import { type ChatDelivery, createChatDelivery } from './handlers/deliver-chat.ts';
import { createDeadlineFirer } from './handlers/fire-deadlines.ts';
import { createReaper } from './handlers/reap-attempts.ts';
import { createStageRunner, type StageRunner } from './handlers/run-stage.ts';
import type { JobQueue } from './jobs.ts';
import type { RunEngine } from './run-engine.ts';
import type { StageExecutor } from './stage-executor.ts';

export type StageWorkerDeps = {
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  executor: StageExecutor;
  /**
   * Brings a run's chat messages on a surface up to date. Only a process connected to a
   * surface has its notifier, and only such a process takes that surface's deliveries (its
   * own queue); the others leave them to it.
   */
  notifiers?: Partial<Record<ChatSurface, (runId: string) => Promise<void>>>;
  /** Brings a drift alert's messages on a surface up to date; delivered from the alert outbox by the same loop. */
  alertNotifiers?: Partial<Record<ChatSurface, (alertId: string) => Promise<void>>>;
  /** More job loops beside the engine's own (monitoring's schedule and checks); not run with `onlyRun`. */
  handlers?: JobHandler[];
  /** Loads what stages read and stores what they produce. @default noStore */
  store?: StageStore;
  /** @default databaseClock */
  clock?: Clock;
  log: Logger;
  /** Shown in the timeline and the lease ("host:pid"). */
  workerId: string;
  /** Stage attempts this process runs at once. @default 2 */
  concurrency?: number;
  /** A running attempt whose heartbeat is older than this belongs to a dead worker. @default 30_000 */
  leaseMs?: number;
  /** @default leaseMs / 6 */
  heartbeatMs?: number;
  /** @default 250 */
  pollMs?: number;
  /** Progress events per attempt are coalesced to at most one per this interval. @default 1000 */
  progressEveryMs?: number;
  /** Seconds before a failed chat delivery is retried. @default 2 s, 4 s … 5 min */
  chatBackoff?: (failures: number) => number;
  /** Where stage attempts are measured (`steward_stage_duration_seconds`) and failed ones counted. */
  metrics?: Pick<Metrics, 'stageDuration' | 'errors'>;
};

export type WorkerHealth = {
  /** False when a loop has not finished a round for a while, or its last round threw. */
  ok: boolean;
  /** When the stage loop last finished a round. */
  lastRoundAt: string | null;
  error?: string;
  loops: Record<string, { lastRoundAt: string | null; error?: string }>;
  chat?: { failing: number; lastError?: string };
};

export type StageWorker = {
  /**
   * Starts the job loops. With `onlyRun`, only that run's stage jobs are claimed and nothing
   * else is done (`steward run --wait` on an embedded database that no server serves).
   */
  start(options?: { onlyRun?: string }): void;
  /**
   * Stops claiming work, lets running attempts finish for up to `graceMs`, then releases
   * the rest: their runs get a new attempt that another worker picks up.
   */
  stop(graceMs?: number): Promise<void>;
  /** One round of every handler, awaiting the work it launched; resolves to the amount of work. */
  tick(): Promise<number>;
  /** Marks attempts whose worker stopped heartbeating as lost. `all` reaps every running attempt not ours. */
  reap(all?: boolean): Promise<number>;
  health(): WorkerHealth;
};

type LoopState = { pollMs: number; lastRoundAt: number | null; lastRoundIso: string | null; error?: string };

/** An error as /healthz shows it: its first line, short (a database error may quote a whole query). */
const brief = (message: string) => (message.split('\n')[0] ?? '').slice(0, 200);

/**
 * The job loop: one loop per kind of job (run stages, reap lost attempts, fire deadlines,
 * deliver chat messages), each polling on its own, so that a slow or hung kind never holds
 * up the others. Stage attempts and chat deliveries run concurrently inside their handlers.
 */
export function createStageWorker(deps: StageWorkerDeps): StageWorker {
  const { database, log, workerId } = deps;
  const clock = deps.clock ?? databaseClock;
  const concurrency = deps.concurrency ?? 2;
  const leaseMs = deps.leaseMs ?? 30_000;
  const heartbeatMs = deps.heartbeatMs ?? Math.max(100, Math.floor(leaseMs / 6));
  const pollMs = deps.pollMs ?? 250;

  function build(onlyRun?: string) {
    const stages: StageRunner = createStageRunner({
      ...deps,
      store: deps.store ?? noStore,
      clock,
      concurrency,
      heartbeatMs,
      pollMs,
      progressEveryMs: deps.progressEveryMs ?? 1000,
      ...(onlyRun ? { onlyRun } : {}),
    });
    const reaper = createReaper({
      ...deps,
      clock,
      leaseMs,
      everyMs: Math.max(heartbeatMs, leaseMs / 3),
      isRunningHere: (ref) => stages.isRunning(ref),
    });
    const deliveries = (notifiers: StageWorkerDeps['notifiers'], outbox: Outbox) =>
      Object.entries(notifiers ?? {}).map(([surface, deliver]) =>
        createChatDelivery({
          database,
          deliver,
          surface: surface as ChatSurface,
          outbox,
          log: log.child({ part: outbox === RUN_OUTBOX ? 'chat' : 'alerts', surface }),
          workerId,
          pollMs,
          ...(deps.chatBackoff ? { backoff: deps.chatBackoff } : {}),
        }),
      );
    const chat: ChatDelivery[] = onlyRun
      ? []
      : [...deliveries(deps.notifiers, RUN_OUTBOX), ...deliveries(deps.alertNotifiers, ALERT_OUTBOX)];
    const handlers: JobHandler[] = onlyRun
      ? [stages]
      : [reaper, createDeadlineFirer({ ...deps, pollMs }), ...chat, ...(deps.handlers ?? []), stages];
    return { stages, reaper, chat, handlers };
  }

  let parts = build();
  let stopping = false;
  let startedAt = performance.now();
  let loops: Promise<void>[] = [];
  const states = new Map<string, LoopState>();
  const wakeups = new Set<() => void>();

  /** Waits `ms`, or less when the worker stops. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakeups.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakeups.add(done);
    });

  async function loop(handler: JobHandler): Promise<void> {
    const state: LoopState = { pollMs: handler.pollMs, lastRoundAt: null, lastRoundIso: null };
    states.set(handler.name, state);
    while (!stopping) {
      let launched = 0;
      try {
        launched = (await handler.round()).length;
        state.lastRoundAt = performance.now();
        state.lastRoundIso = new Date().toISOString();
        delete state.error;
      } catch (error) {
        if (stopping) break;
        const message = loggableError(error);
        state.error = brief(message);
        log.error('worker loop error', { loop: handler.name, error: message });
      }
      if (launched === 0 && !stopping) await pause(handler.pollMs);
    }
  }

  return {
    start(options = {}) {
      if (loops.length > 0) return;
      stopping = false;
      startedAt = performance.now();
      parts = build(options.onlyRun);
      const { reaper, handlers } = parts;
      const ready = (async () => {
        if (database.exclusive) {
          // We hold the embedded database's lock, so any running attempt belongs to a dead process.
          const reaped = await reaper.reap(true).catch((error: Error) => {
            log.error('startup reap failed', { error });
            return 0;
          });
          if (reaped) log.warn('released attempts left running by a previous process', { reaped });
        }
      })();
      loops = handlers.map((handler) => ready.then(() => loop(handler)));
      log.info('worker started', {
        worker: workerId,
        concurrency,
        leaseMs,
        loops: handlers.map((h) => h.name),
        ...(options.onlyRun ? { onlyRun: options.onlyRun } : {}),
      });
    },
    async stop(graceMs = 10_000) {
      stopping = true;
      for (const wake of [...wakeups]) wake();
      await Promise.all(loops);
      loops = [];
      // Chat deliveries get at most a few seconds: a chat service that never answers must
      // not hold up the shutdown; another process delivers what is left.
      await Promise.all([
        parts.stages.stop(graceMs),
        ...parts.chat.map((c) => c.stop(Math.min(graceMs, 3000))),
        ...(deps.handlers ?? []).map((h) => h.stop?.(graceMs)),
      ]);
    },
    async tick() {
      let work = 0;
      for (const handler of parts.handlers) {
        const launched = await handler.round();
        await Promise.all(launched);
        work += launched.length;
      }
      return work;
    },
    reap: (all) => parts.reaper.reap(all),
    health() {
      const now = performance.now();
      const report: WorkerHealth['loops'] = {};
      let ok = true;
      for (const [name, state] of states) {
        report[name] = { lastRoundAt: state.lastRoundIso, ...(state.error ? { error: state.error } : {}) };
        // A loop is stuck when it has not finished a round for several of its own pauses.
        const staleAfterMs = Math.max(15_000, 3 * state.pollMs);
        const last = state.lastRoundAt ?? startedAt;
        if (state.error || (loops.length > 0 && now - last > staleAfterMs)) ok = false;
      }
      const firstError = [...states.values()].find((s) => s.error)?.error;
      const chat = chatHealth(parts.chat);
      return {
        ok,
        lastRoundAt: states.get('stages')?.lastRoundIso ?? null,
        ...(firstError ? { error: firstError } : {}),
        loops: report,
        ...(chat
          ? { chat: { ...chat, ...(chat.lastError ? { lastError: brief(chat.lastError) } : {}) } }
          : {}),
      };
    },
  };
}

/** Undeliverable runs over every surface's delivery queue; undefined when there are none. */
function chatHealth(deliveries: ChatDelivery[]): WorkerHealth['chat'] {
  if (deliveries.length === 0) return undefined;
  const reports = deliveries.map((d) => d.health());
  const lastError = reports.map((r) => r.lastError).findLast((e) => e !== undefined);
  return { failing: reports.reduce((sum, r) => sum + r.failing, 0), ...(lastError ? { lastError } : {}) };
}
