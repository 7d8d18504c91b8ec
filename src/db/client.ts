import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { StewardError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { acquireLock, type DataDirLock } from './lock.ts';
import * as schema from './schema.ts';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything queries can run on: the database or an open transaction. */
export type Queryable = Db | Tx;

/** The shape pg-boss takes for a connection: raw SQL with `$n` parameters. */
export type SqlExecutor = { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

export type Database = {
  readonly kind: 'pglite' | 'postgres';
  readonly db: Db;
  /** Raw SQL outside any transaction (pg-boss uses it). */
  readonly executor: SqlExecutor;
  /** Raw SQL inside `tx`, so that a job is enqueued atomically with the event that caused it. */
  executorFor(tx: Tx): SqlExecutor;
  /** True when this process is the only one that can reach the database (embedded PGlite). */
  readonly exclusive: boolean;
  readonly lock: DataDirLock | undefined;
  /**
   * Calls `onNotify` with each payload NOTIFYed on `channel`, by any process, until the
   * returned function is called. On PostgreSQL the listener has a connection of its own;
   * when it is lost it reconnects, and `onGap` is called because notifications may have
   * been missed meanwhile.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onGap?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
};

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

type RawClient = { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

/** The driver client under a drizzle transaction (pg PoolClient or PGlite Transaction). */
function rawClientOf(tx: Tx): RawClient & { exec?: (sql: string) => Promise<{ rows: unknown[] }[]> } {
  // biome-ignore lint/suspicious/noExplicitAny: drizzle keeps the driver client on its session; both drivers name it `client`.
  return (tx as any).session.client;
}

function pgliteExecutor(
  client: RawClient & { exec?: (sql: string) => Promise<{ rows: unknown[] }[]> },
): SqlExecutor {
  return {
    async executeSql(text, values) {
      // pg-boss sends multi-statement schema SQL without values; PGlite runs that only through exec().
      if ((!values || values.length === 0) && client.exec) {
        const results = await client.exec(text);
        return { rows: results.at(-1)?.rows ?? [] };
      }
      return client.query(text, values);
    },
  };
}

export type OpenOptions = {
  databaseUrl?: string | undefined;
  dataDir: string;
  /** Which command holds the PGlite lock; shown to a second process. */
  command: string;
  log: Logger;
  /** Use an already created PGlite (tests clone a migrated template). */
  pglite?: PGlite;
  poolSize?: number;
};

/** Opens PostgreSQL when a URL is given, else the embedded PGlite in `dataDir` (locked). */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    pool.on('error', (error) => options.log.warn('idle database connection failed', { error }));
    try {
      await pool.query('select 1');
    } catch (error) {
      await pool.end().catch(() => {});
      throw unreachable(options.databaseUrl, error);
    }
    const db = drizzleNodePg(pool, { schema }) as unknown as Db;
    return {
      kind: 'postgres',
      db,
      executor: { executeSql: (text, values) => pool.query(text, values as unknown[]) },
      executorFor: (tx) => {
        const client = rawClientOf(tx);
        return { executeSql: (text, values) => client.query(text, values) };
      },
      exclusive: false,
      lock: undefined,
      listen: (channel, onNotify, onGap) =>
        listenOnPostgres(options.databaseUrl as string, channel, onNotify, onGap, options.log),
      close: () => pool.end(),
    };
  }
  let lock: DataDirLock | undefined;
  let client = options.pglite;
  if (!client) {
    lock = acquireLock(options.dataDir, options.command);
    try {
      const dir = path.join(options.dataDir, 'pgdata');
      fs.mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
      client = await PGlite.create(dir);
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  const pglite = client;
  const db = drizzlePglite(pglite, { schema }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    executor: pgliteExecutor(pglite),
    executorFor: (tx) => pgliteExecutor(rawClientOf(tx)),
    exclusive: true,
    lock,
    async listen(channel, onNotify) {
      const unlisten = await pglite.listen(channel, onNotify);
      return () => unlisten();
    },
    async close() {
      try {
        if (!options.pglite) await pglite.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/** How long a lost listener connection waits before it connects again. */
const RELISTEN_MS = 1000;

/**
 * LISTEN on a connection of its own, connecting again whenever it is lost (TCP keepalive
 * notices a connection that died silently). One retry is pending at a time, and nothing
 * stays open once the returned function was called.
 */
async function listenOnPostgres(
  url: string,
  channel: string,
  onNotify: (payload: string) => void,
  onGap: (() => void) | undefined,
  log: Logger,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const scheduleRetry = () => {
    if (!stopped && !retry) retry = setTimeout(reconnect, RELISTEN_MS);
  };
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, keepAlive: true });
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) onNotify(message.payload);
    });
    next.on('error', (error) => {
      void next.end().catch(() => {});
      if (client !== next) return;
      client = undefined;
      log.warn('database listener connection lost; connecting again', { error: error.message });
      scheduleRetry();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    if (stopped) {
      await next.end().catch(() => {});
      return;
    }
    client = next;
  };
  const reconnect = () => {
    retry = undefined;
    connect()
      .then(() => {
        if (!stopped) onGap?.();
      })
      .catch((error: Error) => {
        log.warn('database listener could not connect; trying again', { error: error.message });
        scheduleRetry();
      });
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    const open = client;
    client = undefined;
    await open?.end().catch(() => {});
  };
}

/** `DATABASE_URL` with its password masked, for messages. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(a value that is not a URL)';
  }
}

function unreachable(url: string, error: unknown): StewardError {
  return new StewardError(
    'DATABASE_UNREACHABLE',
    `cannot connect to PostgreSQL at DATABASE_URL=${describeDatabaseUrl(url)}: ${(error as Error).message}. ` +
      "Check that the server is running and that the URL's host, port, user, password and database are right " +
      '(unset DATABASE_URL to use the embedded database).',
    { cause: error },
  );
}

/**
 * Applies the committed migrations. On PostgreSQL a session advisory lock on one dedicated
 * connection keeps several starting processes from migrating at once.
 */
export async function migrateDatabase(database: Database, databaseUrl?: string): Promise<void> {
  if (database.kind === 'pglite') {
    // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the concrete PGlite drizzle type.
    await migratePglite(database.db as any, { migrationsFolder: MIGRATIONS_DIR });
    return;
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(727274)');
    await migrateNodePg(drizzleNodePg(client), { migrationsFolder: MIGRATIONS_DIR });
  } finally {
    await client.query('select pg_advisory_unlock(727274)').catch(() => {});
    await client.end();
  }
}
