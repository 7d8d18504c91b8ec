import fs from 'node:fs/promises';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type App, type AppOptions, createIntentParser, openApp, VERSION } from './app.ts';
import { accessCommand } from './cli/access-commands.ts';
import { demoCommand } from './cli/demo/demo.ts';
import { DRIFT_USAGE, driftCommand } from './cli/drift-commands.ts';
import { formatDetail, formatHistory, formatModels, formatRuns } from './cli/format.ts';
import { startUrlLine } from './cli/start-url.ts';
import { type Config, loadConfig } from './config.ts';
import { useToken } from './db/credentials-repo.ts';
import { describeHolder, readLock } from './db/lock.ts';
import { grantRole } from './db/runs-repo.ts';
import { isStewardError, StewardError } from './errors.ts';
import { createHttpAccess } from './http/client.ts';
import { readLocalSecret, secretPath } from './http/local-secret.ts';
import { callerKey } from './http/routes/body.ts';
import { createLogger, type Logger } from './log.ts';
import { createDirectoryCatalog, parseSpec } from './stages/catalog.ts';
import { pipelineJsonSchema } from './stages/spec.ts';
import type { Access } from './workflows/access.ts';
import type { DeploymentResult } from './workflows/deployments.ts';
import { stateLabel } from './workflows/explain.ts';
import { LOCAL_USER, type Principal } from './workflows/identity.ts';
import { isFinal, type RunView } from './workflows/run-engine.ts';
import { MAX_RUN_NUMBER, noSuchRunNumber, parseRunNumber } from './workflows/run-service.ts';

const USAGE = `steward ${VERSION}: chat-ops for machine learning

Usage:
  steward start                          HTTP server, workers and scheduler (npm start)
  steward worker                         workers only; run several against one PostgreSQL
  steward migrate                        apply database migrations and exit
  steward demo                           play the whole loop on a throwaway embedded database, then a summary
                                         [--open: keep it running, print the console's URL] [--port N: default a free one]
  steward run <pipeline> [k=v ...]       start a run; prints #N   [--wait] [--json]
                                         [--key K: the same key again finds that run instead of starting another]
  steward runs                           list runs   [--pipeline P] [--state S] [--limit N] [--json]
  steward show <run>                     a run: checks, metrics, production, timeline   [--json]
  steward approve <run>                  approve a run awaiting approval   [--wait: until it is deployed]
  steward reject <run> [--reason text]   reject it
  steward cancel <run> [--reason text]   cancel a run that has not finished
  steward intent "<text>"                what Steward understands from a sentence, as JSON
  steward models [pipeline]              model versions and the share of traffic each serves   [--json]
  steward deploy <pipeline> v<N>         put a version in production (the spec's strategy), through approval   [--wait] [--key K]
  steward rollback <pipeline>            undo the last change of production   [--to v<N>] [--wait] [--key K]
  steward promote <pipeline>             finish a canary or shadow deployment (approver)
  steward history <pipeline>             which version served when, who approved, what it replaced   [--json]
  ${DRIFT_USAGE}
  steward grant <user> <role> [pipeline] give a role: viewer, operator, approver, admin
  steward revoke <user> [pipeline]       take a global (or per-pipeline) role away
  steward roles                          every grant   [--json]
  steward whoami                         who the CLI acts as, and their roles   [--json]
  steward token create <user>            a personal API token, printed once   [--name laptop] [--scope predict]
  steward token list                     tokens (an admin sees everyone's)   [--json]
  steward token revoke <id>              revoke a token
  steward pipeline validate <file>       check a pipeline spec; lists every problem
  steward pipeline schema                print the spec's JSON Schema (for editors)

Who acts is the credential's user: on this machine, the data dir's secret (the admin
\`${LOCAL_USER}\`); with STEWARD_TOKEN, that token's user; with DATABASE_URL and no server,
the admin cli:<you>@<host>. An admin may act for someone else with --as <user-id>.
While \`steward start\` holds the embedded database, the CLI talks to it over HTTP;
STEWARD_URL points the CLI at a remote Steward instead (with STEWARD_TOKEN).`;

export type MainOverrides = Partial<Pick<AppOptions, 'stagesModule' | 'executor' | 'catalog' | 'store'>>;

export type Out = { out(line: string): void; err(line: string): void };
const stdio: Out = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Runs one CLI command; resolves to the exit code. */
export async function main(
  argv: string[],
  overrides: MainOverrides = {},
  io: Out = stdio,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      as: { type: 'string' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      pipeline: { type: 'string' },
      state: { type: 'string' },
      limit: { type: 'string' },
      name: { type: 'string' },
      to: { type: 'string' },
      scope: { type: 'string' },
      columns: { type: 'string' },
      hours: { type: 'string' },
      open: { type: 'boolean' },
      port: { type: 'string' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
  });
  const [command, ...args] = positionals;
  if (values.version) {
    io.out(VERSION);
    return 0;
  }
  if (values.help || !command || command === 'help') {
    io.out(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (command === 'demo') {
    // Its own Steward on its own embedded database: nothing of the caller's environment is used.
    const port = portOf(values.port);
    if (port === undefined) return usage(io, `--port takes a port number, 0-65535 (got \`${values.port}\`)`);
    return demoCommand({
      open: values.open === true,
      port,
      io,
      ...(io === stdio ? { sink: process.stdout } : {}),
      env,
    });
  }
  const config = loadConfig(env);
  const log = createLogger({ level: config.logLevel });
  const as = values.as ? { as: values.as } : {};
  if (values.key !== undefined && !values.key.trim()) {
    return usage(io, '--key takes a non-empty key, such as ci:churn:<commit>');
  }
  /**
   * `--key`: over HTTP it is the request's Idempotency-Key; on the database it is stored
   * as the server would store that header, so both ways find the same run.
   */
  const requestKey = async (access: Access, app: App | undefined) => {
    if (!values.key) return {};
    return { requestKey: app ? callerKey((await access.whoami()).user, values.key) : values.key };
  };

  switch (command) {
    case 'start':
    case 'worker':
      return serve(command, config, log, overrides, io);
    case 'migrate': {
      const app = await openApp({ config, log, command, ...overrides });
      await app.close();
      io.out('migrations applied');
      return 0;
    }
    case 'run': {
      const [pipeline, ...pairs] = args;
      if (!pipeline) return usage(io, 'run needs a pipeline name: steward run <pipeline> [k=v ...]');
      let params: Record<string, string>;
      try {
        params = parseParams(pairs);
      } catch (error) {
        return fail(io, error);
      }
      return withAccess(async (service, app) => {
        const { run } = await service.start({ pipeline, params, ...as, ...(await requestKey(service, app)) });
        return follow(service, app, run);
      });
    }
    case 'deploy': {
      const [pipeline, word] = args;
      const version = versionOf(word);
      if (!pipeline || version === undefined)
        return usage(io, 'deploy needs a pipeline and a version: steward deploy churn v3');
      return withAccess(async (service, app) =>
        reportDeployment(
          await service.deploy({ pipeline, version, ...as, ...(await requestKey(service, app)) }),
          service,
          app,
        ),
      );
    }
    case 'rollback': {
      const [pipeline] = args;
      const version = values.to === undefined ? undefined : versionOf(values.to);
      if (!pipeline || (values.to !== undefined && version === undefined)) {
        return usage(io, 'rollback needs a pipeline: steward rollback churn [--to v2]');
      }
      return withAccess(async (service, app) =>
        reportDeployment(
          await service.rollback({
            pipeline,
            ...(version !== undefined ? { version } : {}),
            ...as,
            ...(await requestKey(service, app)),
          }),
          service,
          app,
        ),
      );
    }
    case 'promote': {
      const [pipeline] = args;
      if (!pipeline) return usage(io, 'promote needs a pipeline: steward promote churn');
      return withAccess(async (service) => {
        const { alias, entry } = await service.promote({ pipeline, ...as });
        io.out(
          values.json
            ? JSON.stringify({ alias, entry }, null, 2)
            : `${pipeline} now serves ${alias.description}`,
        );
        return 0;
      });
    }
    case 'history': {
      const [pipeline] = args;
      if (!pipeline) return usage(io, 'history needs a pipeline: steward history churn');
      return withAccess(async (service) => {
        const history = await service.history(pipeline);
        io.out(values.json ? JSON.stringify(history, null, 2) : formatHistory(pipeline, history));
        return 0;
      });
    }
    case 'runs':
      return withAccess(async (service) => {
        const runs = await service.list({
          ...(values.pipeline ? { pipeline: values.pipeline } : {}),
          ...(values.state ? { states: values.state.split(',') } : {}),
          limit: limitOf(values.limit),
        });
        io.out(values.json ? JSON.stringify(runs, null, 2) : formatRuns(runs));
        return 0;
      });
    case 'show': {
      const number = parseRunNumber(args[0]);
      if (!number) return usage(io, 'show needs a run number: steward show 12');
      if (number > MAX_RUN_NUMBER) return fail(io, noSuchRunNumber(args[0] ?? ''));
      return withAccess(async (service) => {
        const detail = await service.show({ number });
        io.out(values.json ? JSON.stringify(detail, null, 2) : formatDetail(detail));
        return 0;
      });
    }
    case 'approve':
    case 'reject':
    case 'cancel': {
      const number = parseRunNumber(args[0]);
      if (!number) return usage(io, `${command} needs a run number: steward ${command} 12`);
      if (number > MAX_RUN_NUMBER) return fail(io, noSuchRunNumber(args[0] ?? ''));
      return withAccess(async (service, app) => {
        const result = await service.act({
          run: { number },
          action: command,
          ...as,
          ...(values.reason ? { reason: values.reason } : {}),
        });
        const note = result.status === 'duplicate' ? ' (already applied)' : '';
        // --wait follows an approved run through its deployment, as `run --wait` follows one to the gate.
        if (values.wait && command === 'approve' && !isFinal(result.run.state)) {
          return follow(service, app, result.run, `approved${note}`);
        }
        io.out(`#${number} ${stateLabel(result.run.state)}${note}`);
        return 0;
      });
    }
    case 'pipeline':
      return pipelineCommand(args, io);
    case 'drift':
      return driftCommand(args, {
        json: values.json === true,
        ...(values.columns ? { columns: values.columns } : {}),
        ...(values.hours ? { hours: values.hours } : {}),
        as,
        io,
        usage: (message) => usage(io, message),
        fail: (error) => fail(io, error),
        withAccess,
      });
    case 'intent': {
      const text = args.join(' ').trim();
      if (!text) return usage(io, 'intent needs the text to read: steward intent "retrain churn"');
      try {
        const parser = await createIntentParser(config, log);
        const pipelines = await (overrides.catalog ?? createDirectoryCatalog(config.pipelinesDir)).names();
        const { intent } = await parser(text, { pipelines });
        io.out(JSON.stringify(intent));
        return 0;
      } catch (error) {
        return fail(io, error);
      }
    }
    case 'models':
      return withAccess(async (service) => {
        const models = await service.models(args[0]);
        io.out(values.json ? JSON.stringify(models, null, 2) : formatModels(models));
        return 0;
      });
    case 'whoami':
    case 'roles':
    case 'grant':
    case 'revoke':
    case 'token':
      return accessCommand(command, args, {
        json: values.json === true,
        ...(values.name ? { name: values.name } : {}),
        ...(values.scope ? { scope: values.scope } : {}),
        io,
        usage: (message) => usage(io, message),
        withAccess,
      });
    default:
      return usage(io, `unknown command \`${command}\``);
  }

  /** Runs `fn` with the Access of the CLI's credential: over HTTP to a server, or on the database. */
  /** What `run` prints for a started run: its number, or with --wait the state it ends in. */
  async function follow(
    service: Access,
    app: App | undefined,
    run: RunView,
    did = 'started',
  ): Promise<number> {
    if (!values.wait) {
      io.out(values.json ? JSON.stringify(run) : `#${run.number} ${run.pipeline} ${stateLabel(run.state)}`);
      // On the embedded database only this process could run it now: say when it will move.
      if (app?.database.kind === 'pglite') {
        io.err('no Steward is running on this data dir: the run starts with `steward start` (or use --wait)');
      }
      return 0;
    }
    const mode = waitMode(app);
    io.err(
      `#${run.number} ${run.pipeline} ${did}; waiting…${mode === 'follow' && app ? ' (the workers on this PostgreSQL run it: `steward start` or `steward worker`)' : ''}`,
    );
    // Nothing else serves an embedded database: this process runs its own run's stages, and no one else's.
    if (app && mode === 'work') app.worker.start({ onlyRun: run.id });
    const interrupted = new AbortController();
    const onSignal = () => interrupted.abort();
    process.once('SIGINT', onSignal);
    let final: RunView | undefined;
    try {
      final = await waitForRest(
        service,
        run,
        (state) => io.err(`#${run.number} ${stateLabel(state)}`),
        interrupted.signal,
      );
    } finally {
      process.off('SIGINT', onSignal);
    }
    if (!final) {
      io.err(`stopped waiting; \`steward show ${run.number}\` follows #${run.number}`);
      return 130;
    }
    io.out(
      values.json ? JSON.stringify(final) : `#${final.number} ${final.pipeline} ${stateLabel(final.state)}`,
    );
    return final.state === 'failed' ||
      final.state === 'rejected' ||
      final.state === 'expired' ||
      final.state === 'cancelled'
      ? 1
      : 0;
  }

  /** A deploy or rollback request's answer: the run it started, or why nothing changed. */
  async function reportDeployment(result: DeploymentResult, service: Access, app: App | undefined) {
    if (result.status === 'started') return follow(service, app, result.run);
    io.out(values.json ? JSON.stringify(result) : result.message);
    return 0;
  }

  async function withAccess(fn: (access: Access, app: App | undefined) => Promise<number>): Promise<number> {
    try {
      const remote = serverUrl(config);
      if (remote) {
        if (isPlainHttpElsewhere(remote.url)) {
          io.err(
            `warning: ${remote.url} is plain http, so your token crosses the network unencrypted; use https`,
          );
        }
        return await fn(createHttpAccess(remote.url, remote.token, remote.missing), undefined);
      }
      const databaseUser = config.databaseUrl ? `cli:${os.userInfo().username}@${os.hostname()}` : undefined;
      const app = await openApp({ config, log, command: command ?? 'cli', ...overrides });
      try {
        return await fn(app.access(await principalOnDatabase(app, databaseUser)), app);
      } finally {
        await app.close(1000);
      }
    } catch (error) {
      return fail(io, error);
    }
  }

  /**
   * Who the CLI is when it opens the database itself: STEWARD_TOKEN's user when one is set,
   * else the holder of the database credentials (`local` on the embedded default).
   */
  async function principalOnDatabase(app: App, databaseUser: string | undefined): Promise<Principal> {
    if (config.token) {
      const row = await useToken(app.database.db, config.token);
      if (!row)
        throw new StewardError(
          'UNAUTHORIZED',
          'STEWARD_TOKEN is wrong or revoked; `steward token list` shows the live ones',
        );
      return {
        user: row.userId,
        credential: 'token',
        tokenId: row.id,
        ...(row.createdBy !== row.userId ? { issuedBy: row.createdBy } : {}),
      };
    }
    // Database credentials allow anything anyway: the CLI that holds them is an admin.
    if (databaseUser)
      await grantRole(app.database.db, {
        userId: databaseUser,
        role: 'admin',
        grantedBy: 'database credentials',
      });
    return { user: databaseUser ?? LOCAL_USER, credential: 'database' };
  }
}

/** `steward pipeline validate <file>` and `steward pipeline schema`: no database needed. */
async function pipelineCommand([sub, file]: string[], io: Out): Promise<number> {
  if (sub === 'schema') {
    io.out(JSON.stringify(pipelineJsonSchema(), null, 2));
    return 0;
  }
  if (sub !== 'validate' || !file)
    return usage(io, 'write `steward pipeline validate <file>` or `steward pipeline schema`');
  try {
    const spec = parseSpec(await fs.readFile(file, 'utf8'), file);
    io.out(`${file}: ok (${spec.name}: ${spec.task}, ${spec.model.type} model, ${spec.source.type} source)`);
    return 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return fail(io, new StewardError('BAD_REQUEST', `no such file: ${file}`));
    }
    return fail(io, error);
  }
}

function isPlainHttpElsewhere(url: string): boolean {
  const { protocol, hostname } = new URL(url);
  return protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(hostname);
}

type Remote = { url: string; token: string | undefined; missing: string };

/**
 * STEWARD_URL (with STEWARD_TOKEN), else the server that holds the embedded data dir (with
 * STEWARD_TOKEN or the data dir's secret), else none: the CLI opens the database itself.
 */
function serverUrl(config: Config): Remote | undefined {
  if (config.serverUrl) {
    return {
      url: config.serverUrl,
      token: config.token,
      missing: `set STEWARD_TOKEN to your personal API token for ${config.serverUrl}; an admin there makes one with \`steward token create <you>\``,
    };
  }
  if (config.databaseUrl) return undefined;
  const holder = readLock(config.dataDir);
  if (!holder) return undefined;
  if (!holder.port) {
    throw new StewardError(
      'DATA_DIR_LOCKED',
      `the data dir ${config.dataDir} is in use by ${describeHolder(holder)}, which serves no HTTP API; stop it or use STEWARD_URL`,
    );
  }
  return {
    url: `http://127.0.0.1:${holder.port}`,
    token: config.token ?? readLocalSecret(config.dataDir),
    missing: `cannot read ${secretPath(config.dataDir)}: run the CLI as the user who runs \`steward start\`, or set STEWARD_TOKEN`,
  };
}

async function serve(
  command: 'start' | 'worker',
  config: Config,
  log: Logger,
  overrides: MainOverrides,
  io: Out,
) {
  let app: App;
  try {
    app = await openApp({ config, log, command, ...overrides });
  } catch (error) {
    return fail(io, error);
  }
  if (command === 'worker') {
    // Bound before any job is claimed: a port in use stops the worker while it holds nothing.
    try {
      const server = await app.listenMetrics();
      const address = server.address();
      const port = address && typeof address === 'object' ? address.port : config.metricsPort;
      io.err(`Steward ${VERSION} worker: /healthz and /metrics on http://${config.host}:${port}`);
    } catch (error) {
      await app.close(0);
      return fail(io, error);
    }
  }
  app.worker.start();
  if (command === 'start') {
    try {
      const server = await app.listen();
      const address = server.address();
      const port = address && typeof address === 'object' ? address.port : config.port;
      const where = app.database.kind === 'pglite' ? `embedded database in ${config.dataDir}` : 'PostgreSQL';
      log.info('steward started', { url: `http://${config.host}:${port}`, database: app.database.kind });
      io.err(`Steward ${VERSION} is up on http://${config.host}:${port} (${where}). Ctrl-C stops it.`);
      io.err(startUrlLine(config, port));
    } catch (error) {
      await app.close(0);
      return fail(io, error);
    }
  }
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        log.warn('second signal: exiting now', { signal });
        process.exit(130);
      }
      stopping = true;
      log.info('shutting down', { signal });
      app.close(config.shutdownGraceMs).then(resolve, (error: Error) => {
        log.error('shutdown failed', { error: error.message });
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // A chat call that never answers keeps its socket open; it must not keep the process alive.
  setTimeout(() => process.exit(0), 1000).unref();
  return 0;
}

/**
 * How `run --wait` sees its run through. `follow`: only watch it, because other processes
 * run stages (the server the CLI talks to over HTTP, or the workers on a shared
 * PostgreSQL, whose jobs a CLI that exits when its run rests must not hold). `work`: the
 * embedded database with no server, where nothing else would run it, so this process
 * runs its run's stages, and only those.
 */
export type WaitMode = 'follow' | 'work';

export function waitMode(app: Pick<App, 'database'> | undefined): WaitMode {
  return app?.database.exclusive ? 'work' : 'follow';
}

const RESTING = new Set(['awaitingApproval']);
const POLL_MS = 200;

/**
 * Polls until the run waits for people or has finished, reporting each state it passes.
 * Resolves undefined as soon as `signal` aborts (Ctrl-C), mid-sleep included.
 */
async function waitForRest(
  service: Pick<Access, 'show'>,
  run: RunView,
  onState: (state: string) => void,
  signal: AbortSignal,
): Promise<RunView | undefined> {
  let last = run.state as string;
  while (!signal.aborted) {
    const { run: current } = await service.show({ number: run.number });
    if (current.state !== last) {
      last = current.state;
      onState(current.state);
    }
    if (RESTING.has(current.state) || isFinal(current.state)) return current;
    await sleep(POLL_MS, undefined, { signal }).catch(() => {});
  }
  return undefined;
}

function parseParams(pairs: string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new StewardError(
        'BAD_REQUEST',
        `\`${pair}\` is not a parameter; write key=value, e.g. epochs=30`,
      );
    params[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return params;
}

/** `--limit N`: a whole number from 1 to 500, 20 when absent. */
/** `v3` or `3` as a model version; undefined for anything else. */
function versionOf(text: string | undefined): number | undefined {
  const digits = /^v?(\d{1,10})$/i.exec(text ?? '')?.[1];
  const n = Number(digits);
  return digits && n > 0 && n <= 2 ** 31 - 1 ? n : undefined;
}

/** `--port N`: 0 (a free one, the default) to 65535; undefined for anything else. */
function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return 0;
  const n = Number(text);
  return /^\d{1,5}$/.test(text) && n <= 65535 ? n : undefined;
}

function limitOf(text: string | undefined): number {
  if (text === undefined) return 20;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 500) {
    throw new StewardError('BAD_REQUEST', `--limit takes a whole number from 1 to 500 (got \`${text}\`)`);
  }
  return n;
}

function usage(io: Out, message: string): number {
  io.err(`error: ${message}\n\n${USAGE}`);
  return 2;
}

function fail(io: Out, error: unknown): number {
  if (isStewardError(error)) {
    io.err(`error: ${error.message}`);
    return 1;
  }
  io.err(`error: ${(error as Error).stack ?? String(error)}`);
  return 1;
}
