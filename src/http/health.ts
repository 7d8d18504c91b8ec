import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../db/client.ts';

/** What the job loop reports about itself: `ok` is false when its last round threw or is too old. */
export type WorkerHealth = { ok: boolean; lastRoundAt: string | null; error?: string };

export type HealthReport = {
  /** `ok` only when every part is; `/healthz` answers 200 then and 503 otherwise. */
  status: 'ok' | 'unavailable';
  database: { kind: Database['kind']; ok: boolean; error?: string };
  /** Absent when this process runs no worker (or none was given to check). */
  worker?: WorkerHealth;
  /**
   * Slack's permanent refusals (a missing scope, `not_in_channel`), each once. They leave
   * the status `ok`: the process serves; the messages it cannot post are the problem.
   */
  slack?: { problems: { code: string; channel: string; message: string; at: string }[] };
};

export type HealthDeps = {
  database: Pick<Database, 'kind' | 'executor'>;
  /** The job loop's own report; without one the worker is not part of the answer. */
  worker?: () => WorkerHealth;
  /** A ping slower than this counts as a dead database. @default 2000 */
  timeoutMs?: number;
  slack?: () => NonNullable<HealthReport['slack']>['problems'];
};

/**
 * The health check behind `/healthz`: a `select 1` with a short timeout, and the worker
 * loop's report. It never throws: a failure is part of the answer, so a load balancer
 * gets a 503 naming the part that is down rather than a 500.
 */
export function createHealthCheck({
  database,
  worker,
  slack,
  timeoutMs = 2000,
}: HealthDeps): () => Promise<HealthReport> {
  async function ping(): Promise<HealthReport['database']> {
    const timer = new AbortController();
    try {
      await Promise.race([
        database.executor.executeSql('select 1'),
        sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
          throw new Error(`no answer to select 1 within ${timeoutMs} ms`);
        }),
      ]);
      return { kind: database.kind, ok: true };
    } catch (error) {
      return { kind: database.kind, ok: false, error: `database unreachable: ${describe(error)}` };
    } finally {
      timer.abort();
    }
  }

  return async () => {
    const db = await ping();
    let work: WorkerHealth | undefined;
    try {
      work = worker?.();
    } catch (error) {
      work = { ok: false, lastRoundAt: null, error: describe(error) };
    }
    const ok = db.ok && (work?.ok ?? true);
    const problems = slack?.() ?? [];
    return {
      status: ok ? 'ok' : 'unavailable',
      database: db,
      ...(work ? { worker: work } : {}),
      ...(problems.length ? { slack: { problems } } : {}),
    };
  };
}

/** An error's message without credentials (a connection string's `user:password@`). */
function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: { message: string }[] };
  // Node's net errors for a host with several addresses (127.0.0.1 and ::1) are an AggregateError with no message.
  const message = e?.message || e?.errors?.map((x) => x.message).join('; ') || e?.code || String(error);
  return message.replace(/\/\/[^/@\s]*@/g, '//***@');
}
