import type http from 'node:http';
import os from 'node:os';
import { createAlertNotifier } from './bot/alert-notifier.ts';
import type { ChatPort } from './bot/chat.ts';
import { createChatModel } from './bot/commands/chat-model.ts';
import { createLlmIntentParser, type IntentParser, rulesIntentParser } from './bot/commands/llm.ts';
import { createConsole } from './bot/console/console.ts';
import { createNotifier } from './bot/notifier.ts';
import { createSlackBot } from './bot/slack/app.ts';
import { pageLinks } from './bot/views/links.ts';
import type { Config } from './config.ts';
import { type Database, migrateDatabase, openDatabase } from './db/client.ts';
import { grantRole } from './db/runs-repo.ts';
import { StewardError } from './errors.ts';
import { createHealthCheck } from './http/health.ts';
import { ensureLocalSecret, readLocalSecret } from './http/local-secret.ts';
import { createMetricsServer } from './http/metrics-server.ts';
import { createHttpServer } from './http/server.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { createDirectoryCatalog, type PipelineCatalog } from './stages/catalog.ts';
import { createServingStack, type ServingStack } from './stages/serve/index.ts';
import { createStageStore, type StageStore } from './stages/store.ts';
import { type Access, createAccess } from './workflows/access.ts';
import { type Clock, databaseClock } from './workflows/clock.ts';
import { createMonitorRunner, createMonitorScheduler } from './workflows/handlers/monitor.ts';
import { API_USER, LOCAL_USER, type Principal } from './workflows/identity.ts';
import { createJobQueue, type JobQueue } from './workflows/jobs.ts';
import { createMonitoring, type Monitoring } from './workflows/monitoring.ts';
import { createRoleService } from './workflows/role-service.ts';
import { createRunEngine, type RunEngine } from './workflows/run-engine.ts';
import { addRunGauges } from './workflows/run-gauges.ts';
import { createRunService, type RunService } from './workflows/run-service.ts';
import { createThreadExecutor, type StageExecutor } from './workflows/stage-executor.ts';
import { createStageWorker, type StageWorker } from './workflows/stage-worker.ts';

export const VERSION = '0.1.0';

export type AppOptions = {
  config: Config;
  log: Logger;
  /** What this process is (`start`, `worker`, `run` …); named in the data dir lock. */
  command: string;
  /**
   * The module whose `stages` export runs in worker threads. @default src/stages/index.ts
   * Its optional `runParams` export, `(name: string) => boolean`, names the run params its
   * stages read beyond Steward's own, so that runs may be requested with them.
   */
  stagesModule?: URL;
  /** Replaces the worker-thread executor (tests). */
  executor?: StageExecutor;
  /** Replaces the stages' storage (tests whose stand-in stages store nothing). */
  store?: StageStore;
  /** @default the `*.yaml` specs in config.pipelinesDir */
  catalog?: PipelineCatalog;
  clock?: Clock;
  /** Where this app's series are recorded. @default a new registry (`createMetrics()`) */
  metrics?: Metrics;
};

export type App = {
  config: Config;
  log: Logger;
  database: Database;
  jobs: JobQueue;
  engine: RunEngine;
  service: RunService;
  worker: StageWorker;
  /** Steward's Prometheus series, one set per app: `GET /metrics` renders them. */
  metrics: Metrics;
  /** Model serving: the model cache, the prediction log and predict; started by `listen`. */
  serving: ServingStack;
  /** Drift checks, their reports and alerts. */
  monitoring: Monitoring;
  /** What `principal` may do, checked against the database as each request is made. */
  access(principal: Principal): Access;
  /** Starts the HTTP server and records its port in the data dir lock. */
  listen(): Promise<http.Server>;
  /** Serves `/healthz` and `/metrics` alone on config.metricsPort (`steward worker`); logs the port. */
  listenMetrics(): Promise<http.Server>;
  /** Stops the worker (releasing running stages after `graceMs`), the server, the queue and the database. */
  close(graceMs?: number): Promise<void>;
};

/** The `runParams` a custom stages module exports, if it does. */
async function declaredRunParams(module: URL): Promise<((name: string) => boolean) | undefined> {
  const { runParams } = (await import(module.href)) as { runParams?: unknown };
  return typeof runParams === 'function' ? (runParams as (name: string) => boolean) : undefined;
}

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
  const metrics = options.metrics ?? createMetrics();
  addRunGauges({ metrics, database, jobs, log: log.child({ part: 'metrics' }) });
  const catalog = options.catalog ?? createDirectoryCatalog(config.pipelinesDir);
  const slackOn = slackEnabled(config);
  const clock = options.clock ?? databaseClock;
  const extraParams = options.stagesModule ? await declaredRunParams(options.stagesModule) : undefined;
  const engine = createRunEngine({
    database,
    jobs,
    catalog,
    clock,
    log: log.child({ part: 'engine' }),
    dataRoots: config.dataRoots,
    ...(extraParams ? { extraParams } : {}),
    metrics,
  });
  const service = createRunService({ database, engine, catalog, clock });
  const roles = createRoleService({ database });
  const monitoring = createMonitoring({
    database,
    catalog,
    clock,
    log: log.child({ part: 'monitor' }),
    runs: service,
    dataRoots: config.dataRoots,
    metrics,
  });
  // Only `start` talks in chat at once; elsewhere (a worker's deliveries, a CLI command) the
  // parser is made on first use, so a one-off command never loads an LLM provider.
  const intents =
    options.command === 'start' ? await createIntentParser(config, log) : lazyIntentParser(config, log);
  const core = (part: string) => ({
    database,
    service,
    roles,
    jobs: queue,
    intents,
    monitoring,
    log: log.child({ part }),
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
  });
  const queue = jobs;
  const bot = slackOn
    ? createSlackBot(
        {
          botToken: config.slack.botToken ?? '',
          ...(config.slack.signingSecret ? { signingSecret: config.slack.signingSecret } : {}),
          ...(config.slack.appToken ? { appToken: config.slack.appToken } : {}),
          ...(config.slack.apiUrl ? { apiUrl: config.slack.apiUrl } : {}),
          inbox: { claimMs: config.leaseMs },
        },
        core('slack'),
      )
    : undefined;
  const chatConsole =
    config.console === 'off' ? undefined : createConsole({ ...core('console'), mode: config.console });
  const linksOf = (chat: ChatPort) => pageLinks(chat.surface, config.publicUrl);
  const notifierOf = (chat: ChatPort) =>
    createNotifier({
      database,
      service,
      chat,
      log: log.child({ part: 'notify', surface: chat.surface }),
      links: linksOf(chat),
    });
  const alertNotifierOf = (chat: ChatPort) =>
    createAlertNotifier({
      database,
      monitoring,
      chat,
      log: log.child({ part: 'alerts', surface: chat.surface }),
      links: linksOf(chat),
    });
  const worker = createStageWorker({
    database,
    jobs,
    engine,
    executor:
      options.executor ??
      createThreadExecutor(options.stagesModule ?? new URL('./stages/index.ts', import.meta.url), {
        dataRoots: config.dataRoots,
      }),
    store: options.store ?? createStageStore({ clock }),
    clock,
    log: log.child({ part: 'worker' }),
    workerId: `${os.hostname()}:${process.pid}`,
    concurrency: config.concurrency,
    leaseMs: config.leaseMs,
    metrics,
    notifiers: {
      ...(bot ? { slack: notifierOf(bot.chat) } : {}),
      ...(chatConsole ? { console: notifierOf(chatConsole.chat) } : {}),
    },
    alertNotifiers: {
      ...(bot ? { slack: alertNotifierOf(bot.chat) } : {}),
      ...(chatConsole ? { console: alertNotifierOf(chatConsole.chat) } : {}),
    },
    handlers: [
      createMonitorScheduler({ database, catalog, jobs, log: log.child({ part: 'monitor' }) }),
      createMonitorRunner({ jobs, monitoring, log: log.child({ part: 'monitor' }), pollMs: 1000 }),
    ],
  });
  const serving = createServingStack({ database, log, metrics });
  let servingStarted = false;
  let server: http.Server | undefined;
  let metricsServer: http.Server | undefined;

  return {
    config,
    log,
    database,
    jobs: queue,
    engine,
    service,
    worker,
    metrics,
    serving,
    monitoring,
    access: (principal) => createAccess({ database, service, roles, monitoring }, principal),
    async listen() {
      const httpServer = createHttpServer({
        service,
        roles,
        monitoring,
        database,
        log: log.child({ part: 'http' }),
        version: VERSION,
        localSecret: ensureLocalSecret(config.dataDir),
        ...(config.apiToken ? { apiToken: config.apiToken } : {}),
        ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
        allowedHosts: config.allowedHosts,
        health: createHealthCheck({
          database,
          worker: () => worker.health(),
          ...(bot ? { slack: () => bot.problems() } : {}),
        }),
        metrics,
        metricsAuth: config.metricsAuth,
        ...(bot?.http ? { slack: bot.http } : {}),
        ...(chatConsole ? { console: chatConsole } : {}),
        serving: { service: serving, auth: config.servingAuth },
      });
      await serving.start();
      servingStarted = true;
      await bot?.start();
      await chatConsole?.start();
      await listenOn(httpServer, config.port, config.host, 'set PORT to another one');
      server = httpServer;
      const address = httpServer.address();
      if (address && typeof address === 'object') database.lock?.setPort(address.port);
      return httpServer;
    },
    async listenMetrics() {
      const localSecret = readLocalSecret(config.dataDir);
      const httpServer = createMetricsServer({
        database,
        metrics,
        log: log.child({ part: 'metrics' }),
        version: VERSION,
        health: createHealthCheck({
          database,
          worker: () => worker.health(),
          ...(bot ? { slack: () => bot.problems() } : {}),
        }),
        auth: config.metricsAuth,
        ...(config.apiToken ? { apiToken: config.apiToken } : {}),
        ...(localSecret ? { localSecret } : {}),
        ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
        allowedHosts: config.allowedHosts,
      });
      await listenOn(
        httpServer,
        config.metricsPort,
        config.host,
        'set STEWARD_METRICS_PORT to another one (0 picks a free one)',
      );
      metricsServer = httpServer;
      const address = httpServer.address();
      const port = address && typeof address === 'object' ? address.port : config.metricsPort;
      log.info('metrics and health served', { url: `http://${config.host}:${port}`, port });
      return httpServer;
    },
    async close(graceMs = 10_000) {
      const closing = server ? new Promise((resolve) => server?.close(resolve)) : Promise.resolve();
      server?.closeAllConnections();
      const closingMetrics = metricsServer
        ? new Promise((resolve) => metricsServer?.close(resolve))
        : Promise.resolve();
      metricsServer?.closeAllConnections();
      await worker.stop(graceMs);
      if (bot) await stopWithin(bot, 2000, log);
      await chatConsole?.stop();
      await closing;
      await closingMetrics;
      if (servingStarted) {
        await serving
          .stop()
          .catch((error: Error) => log.warn('serving did not stop cleanly', { error: error.message }));
      }
      await monitoring.close();
      await queue
        .stop()
        .catch((error: Error) => log.warn('job queue did not stop cleanly', { error: error.message }));
      await database.close();
    },
  };
}

/** Listens on `port`, or refuses a port in use with a CONFIG_INVALID that says what to change. */
function listenOn(server: http.Server, port: number, host: string, fix: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new StewardError('CONFIG_INVALID', `port ${port} on ${host} is in use; ${fix}`)
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
}

/**
 * Stops the Slack bot, giving its unfinished work at most `ms`: what changes something is in
 * the inbox already, and chat deliveries are taken over by another process.
 */
async function stopWithin(bot: { stop(): Promise<void> }, ms: number, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    bot.stop().catch((error: Error) => log.warn('slack did not stop cleanly', { error: error.message })),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        log.warn('slack work still waiting at shutdown; left unfinished');
        resolve();
      }, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Slack is on with a bot token and either a signing secret (HTTP mode) or an app token (Socket Mode). */
export const slackEnabled = (config: Config): boolean =>
  Boolean(config.slack.botToken && (config.slack.signingSecret || config.slack.appToken));

/** `createIntentParser`, made when it is first asked something. */
function lazyIntentParser(config: Config, log: Logger): IntentParser {
  let parser: Promise<IntentParser> | undefined;
  return async (text, context) => {
    parser ??= createIntentParser(config, log);
    return (await parser)(text, context);
  };
}

/** The LLM intent parser when STEWARD_LLM names a model, the rules otherwise. */
export async function createIntentParser(config: Config, log: Logger): Promise<IntentParser> {
  if (!config.llm) return rulesIntentParser;
  return createLlmIntentParser({ model: await createChatModel(config.llm), log: log.child({ part: 'llm' }) });
}

/**
 * Admins everywhere: STEWARD_ADMINS; `local`, whom only the data dir's owner can be (its
 * secret is readable by them alone); and `api` while STEWARD_API_TOKEN is set.
 */
async function seedAdmins(database: Database, config: Config): Promise<void> {
  const admins = new Map<string, string>(config.admins.map((id) => [id, 'STEWARD_ADMINS']));
  admins.set(LOCAL_USER, 'local secret');
  if (config.apiToken) admins.set(API_USER, 'STEWARD_API_TOKEN');
  for (const [userId, grantedBy] of admins) {
    await grantRole(database.db, { userId, role: 'admin', grantedBy });
  }
}
