import { sql } from 'drizzle-orm';
import type { Queryable, SqlExecutor } from './client.ts';

/** The chat surfaces a run's messages are kept current on. */
export const CHAT_SURFACES = ['slack', 'console'] as const;
export type ChatSurface = (typeof CHAT_SURFACES)[number];

/** Slack allows about one update a second per message: a burst of events waits this long and becomes one delivery. */
export const COALESCE_SECONDS = 1;

/**
 * Marks a run's messages out of date on every surface, inside the caller's transaction, so
 * the mark exists exactly when the event that caused it committed. Whichever process
 * applied the event, a process connected to that surface delivers it. An existing mark
 * keeps its due time, so a steady stream of events is delivered about once a second. A new
 * run's first mark is due at once (`delaySeconds` 0), so its message appears without a wait.
 */
export async function markOutOfDate(
  db: SqlExecutor,
  runId: string,
  delaySeconds: number = COALESCE_SECONDS,
): Promise<void> {
  for (const surface of CHAT_SURFACES) {
    await db.executeSql(
      `insert into chat_outbox (run_id, surface, due_at)
       values ($1, $2, now() + make_interval(secs => $3))
       on conflict (run_id, surface) do update
         set generation = chat_outbox.generation + 1, updated_at = now()`,
      [runId, surface, delaySeconds],
    );
  }
}

/**
 * Which outbox a delivery loop works: runs' messages (`chat_outbox`, keyed by run) or drift
 * alerts' (`alert_outbox`, keyed by alert). Both have the same shape and the same rules.
 */
export type Outbox = { readonly table: 'chat_outbox' | 'alert_outbox'; readonly key: 'run_id' | 'alert_id' };
export const RUN_OUTBOX: Outbox = { table: 'chat_outbox', key: 'run_id' };
export const ALERT_OUTBOX: Outbox = { table: 'alert_outbox', key: 'alert_id' };

/** `id` is the run's or the alert's, as the outbox is keyed. */
/** Marks a drift alert's messages out of date on every surface, inside the caller's transaction. */
export async function markAlertOutOfDate(db: SqlExecutor, alertId: string): Promise<void> {
  for (const surface of CHAT_SURFACES) {
    await db.executeSql(
      `insert into alert_outbox (alert_id, surface, due_at) values ($1, $2, now())
       on conflict (alert_id, surface) do update
         set generation = alert_outbox.generation + 1, updated_at = now()`,
      [alertId, surface],
    );
  }
}

export type OutboxClaim = { id: string; generation: number; failures: number };

const tableOf = (outbox: Outbox) => sql.raw(outbox.table);
const keyOf = (outbox: Outbox) => sql.raw(outbox.key);

/**
 * Claims due marks of one surface (SKIP LOCKED, so processes never wait for each other),
 * each with a lease of `leaseSeconds`. A mark whose delivery hangs holds only its own run.
 */
export async function claimDue(
  db: Queryable,
  options: { surface: ChatSurface; workerId: string; limit: number; leaseSeconds: number; outbox?: Outbox },
): Promise<OutboxClaim[]> {
  const outbox = options.outbox ?? RUN_OUTBOX;
  const [table, key] = [tableOf(outbox), keyOf(outbox)];
  const result = (await db.execute(sql`
    update ${table} o
       set claimed_by = ${options.workerId},
           claimed_until = now() + make_interval(secs => ${options.leaseSeconds})
      from (select ${key}, surface from ${table}
             where surface = ${options.surface} and due_at <= now()
               and (claimed_until is null or claimed_until < now())
             order by due_at
             limit ${options.limit}
             for update skip locked) due
     where o.${key} = due.${key} and o.surface = due.surface
    returning o.${key} as id, o.generation, o.failures`)) as unknown as {
    rows: { id: string; generation: number; failures: number }[];
  };
  return result.rows.map((r) => ({
    id: r.id,
    generation: Number(r.generation),
    failures: Number(r.failures),
  }));
}

/**
 * Ends a delivery that succeeded. The mark goes away unless events arrived during the
 * delivery (its generation moved on): then it is due again a second from now.
 */
export async function delivered(
  db: Queryable,
  surface: ChatSurface,
  workerId: string,
  claim: OutboxClaim,
  outbox: Outbox = RUN_OUTBOX,
) {
  const [table, key] = [tableOf(outbox), keyOf(outbox)];
  await db.transaction(async (tx) => {
    const removed = (await tx.execute(sql`
      delete from ${table}
       where ${key} = ${claim.id} and surface = ${surface}
         and claimed_by = ${workerId} and generation = ${claim.generation}
      returning ${key}`)) as unknown as { rows: unknown[] };
    if (removed.rows.length > 0) return;
    await tx.execute(sql`
      update ${table}
         set claimed_by = null, claimed_until = null, failures = 0, last_error = null,
             due_at = now() + make_interval(secs => ${COALESCE_SECONDS})
       where ${key} = ${claim.id} and surface = ${surface} and claimed_by = ${workerId}`);
  });
}

/** The longest wait between retries of a failing delivery. */
export const MAX_BACKOFF_SECONDS = 300;

/** The wait before retrying a delivery that failed `failures` times in a row: 2 s, 4 s … 5 min. */
export const backoffSeconds = (failures: number) => Math.min(MAX_BACKOFF_SECONDS, 2 ** failures);

/** Ends a delivery that failed: it is retried after `backoff` seconds, never dropped. */
export async function deliveryFailed(
  db: Queryable,
  surface: ChatSurface,
  workerId: string,
  claim: OutboxClaim,
  error: string,
  backoff: number,
  outbox: Outbox = RUN_OUTBOX,
): Promise<void> {
  const failures = claim.failures + 1;
  await db.execute(sql`
    update ${tableOf(outbox)}
       set claimed_by = null, claimed_until = null, failures = ${failures},
           last_error = ${error.slice(0, 2000)}, due_at = now() + make_interval(secs => ${backoff})
     where ${keyOf(outbox)} = ${claim.id} and surface = ${surface} and claimed_by = ${workerId}`);
}

/** Extends the lease of a delivery that is still running. */
export async function renewClaim(
  db: Queryable,
  surface: ChatSurface,
  workerId: string,
  claim: OutboxClaim,
  leaseSeconds: number,
  outbox: Outbox = RUN_OUTBOX,
): Promise<void> {
  await db.execute(sql`
    update ${tableOf(outbox)} set claimed_until = now() + make_interval(secs => ${leaseSeconds})
     where ${keyOf(outbox)} = ${claim.id} and surface = ${surface} and claimed_by = ${workerId}`);
}

/** Gives back the marks this worker still holds (on shutdown), so another process delivers them at once. */
/**
 * Forgets marks of `surface` that no process took for `hours`: runs whose messages were
 * never delivered because nothing served the surface (Slack not configured, the console
 * off). A surface switched on later starts from the present instead of posting every old run.
 */
export async function forgetStale(
  db: Queryable,
  surface: ChatSurface,
  hours: number,
  outbox: Outbox = RUN_OUTBOX,
): Promise<number> {
  const result = (await db.execute(sql`
    delete from ${tableOf(outbox)}
     where surface = ${surface} and (claimed_until is null or claimed_until < now())
       and updated_at < now() - make_interval(hours => ${hours})
    returning ${keyOf(outbox)}`)) as unknown as { rows: unknown[] };
  return result.rows.length;
}

export async function releaseClaims(
  db: Queryable,
  surface: ChatSurface,
  workerId: string,
  outbox: Outbox = RUN_OUTBOX,
): Promise<void> {
  await db.execute(
    sql`update ${tableOf(outbox)} set claimed_by = null, claimed_until = null
         where claimed_by = ${workerId} and surface = ${surface}`,
  );
}
