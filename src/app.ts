import type http from 'node:http';
import os from 'node:os';
import type { Config } from './config.ts';
import { type Database, migrateDatabase, openDatabase } from './db/client.ts';
import { grantRole } from './db/runs-repo.ts';
import { StewardError } from './errors.ts';
import { createHttpServer, LOCAL_USER } from './http/server.ts';
import type { Logger } from './log.ts';
import { createDirectoryCatalog, type PipelineCatalog } from './stages/catalog.ts';
import { createStageStore, type StageStore } from './stages/store.ts';
import { createJobQueue, type JobQueue } from './workflows/jobs.ts';
import { type Clock, createRunEngine, type RunEngine, systemClock } from './workflows/run-engine.ts';
import { createRunService, type RunService } from './workflows/run-service.ts';
import { createThreadExecutor, type StageExecutor } from './workflows/stage-executor.ts';
import { createStageWorker, type StageWorker } from './workflows/stage-worker.ts';

export const VERSION = '0.1.0';

export type AppOptions = {
  config: Config;
  log: Logger;
  /** What this process is (`start`, `worker`, `run` …); named in the data dir lock. */
  command: string;
  /** The module whose `stages` export runs in worker threads. @default src/stages/index.ts */
  stagesModule?: URL;
  /** Replaces the worker-thread executor (tests). */
  executor?: StageExecutor;
  /** Replaces the stages' storage (tests whose stand-in stages store nothing). */
  store?: StageStore;
  /** @default the `*.yaml` specs in config.pipelinesDir */
  catalog?: PipelineCatalog;
  clock?: Clock;
};

export type App = {
  config: Config;
  log: Logger;
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  service: RunService;
  worker: StageWorker;
  /** Starts the HTTP server and records its port in the data dir lock. */
  listen(): Promise<http.Server>;
  /** Stops the worker (releasing running stages after `graceMs`), the server, the queue and the database. */
  close(graceMs?: number): Promise<void>;
};

/** The composition root: every part is built here, once, and handed what it needs. */
export async function openApp(options: AppOptions): Promise<App> {
  const { config, log } = options;
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    command: options.command,
    log,
  });
  let jobs: JobQueue | undefined;
  try {
    await migrateDatabase(database, config.databaseUrl);
    await seedAdmins(database, config);
    jobs = await createJobQueue({ database, log: log.child({ part: 'jobs' }), supervise: true });
  } catch (error) {
    await jobs?.stop().catch(() => {});
    await database.close();
    throw error;
  }
  const catalog = options.catalog ?? createDirectoryCatalog(config.pipelinesDir);
  const engine = createRunEngine({
    database,
    jobs,
    catalog,
    clock: options.clock ?? systemClock,
    log: log.child({ part: 'engine' }),
  });
  const service = createRunService({ database, engine, catalog });
  const worker = createStageWorker({
    database,
    jobs,
    engine,
    executor:
      options.executor ??
      createThreadExecutor(options.stagesModule ?? new URL('./stages/index.ts', import.meta.url)),
    store: options.store ?? createStageStore(),
    log: log.child({ part: 'worker' }),
    workerId: `${os.hostname()}:${process.pid}`,
    concurrency: config.concurrency,
    leaseMs: config.leaseMs,
  });
  let server: http.Server | undefined;
  const queue = jobs;

  return {
    config,
    log,
    database,
    jobs: queue,
    engine,
    service,
    worker,
    async listen() {
      const httpServer = createHttpServer({
        service,
        database,
        log: log.child({ part: 'http' }),
        apiToken: config.apiToken,
        version: VERSION,
      });
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            error.code === 'EADDRINUSE'
              ? new StewardError(
                  'CONFIG_INVALID',
                  `port ${config.port} on ${config.host} is in use; set PORT to another one`,
                )
              : error,
          ),
        );
        httpServer.listen(config.port, config.host, () => resolve());
      });
      server = httpServer;
      const address = httpServer.address();
      if (address && typeof address === 'object') database.lock?.setPort(address.port);
      return httpServer;
    },
    async close(graceMs = 10_000) {
      const closing = server ? new Promise((resolve) => server?.close(resolve)) : Promise.resolve();
      server?.closeAllConnections();
      await worker.stop(graceMs);
      await closing;
      await queue
        .stop()
        .catch((error: Error) => log.warn('job queue did not stop cleanly', { error: error.message }));
      await database.close();
    },
  };
}

/** STEWARD_ADMINS are admins everywhere; on the embedded default the local user is too. */
async function seedAdmins(database: Database, config: Config): Promise<void> {
  const admins = new Set(config.admins);
  if (database.kind === 'pglite') admins.add(LOCAL_USER);
  for (const userId of admins) {
    await grantRole(database.db, { userId, role: 'admin', grantedBy: 'STEWARD_ADMINS' });
  }
}
