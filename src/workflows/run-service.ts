import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.ts';
import {
  findRun,
  listModelVersions,
  listRuns,
  type RunFilter,
  type RunRef,
  stageAttemptsOf,
  timeline,
} from '../db/runs-repo.ts';
import { StewardError } from '../errors.ts';
import type { PipelineCatalog } from '../stages/catalog.ts';
import { type Clock, databaseClock } from './clock.ts';
import { createDeployments, type Deployments } from './deployments.ts';
import {
  type CreateRunRequest,
  type EventInput,
  notFound,
  type RunEngine,
  type RunView,
  toView,
} from './run-engine.ts';

export type TimelineEntry = {
  seq: number;
  at: string;
  type: string;
  actor: string;
  /** The credential's user when an admin acted for `actor`. */
  via: string | null;
  from: string | null;
  to: string;
  reason: string | null;
  detail: Record<string, unknown>;
};

export type AttemptView = {
  stage: string;
  attempt: number;
  status: string;
  worker: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
};

export type RunDetail = { run: RunView; timeline: TimelineEntry[]; attempts: AttemptView[] };

export type RunAction = 'approve' | 'reject' | 'cancel';

/**
 * The largest run number: numbers are int4 in the database. A larger one names no run,
 * and callers answer "no such run" before it reaches a query (PostgreSQL would fail it).
 */
export const MAX_RUN_NUMBER = 2 ** 31 - 1;

/** `12` or `#12` as a run number; undefined for anything else. Numbers beyond MAX_RUN_NUMBER are kept. */
export function parseRunNumber(text: string | undefined): number | undefined {
  const digits = /^#?(\d+)$/.exec(text ?? '')?.[1];
  const n = Number(digits);
  return digits && n > 0 ? n : undefined;
}

/** RUN_NOT_FOUND for a number that cannot exist, naming it as it was written. */
export function noSuchRunNumber(text: string): StewardError {
  return new StewardError('RUN_NOT_FOUND', `there is no run #${text.replace(/^#/, '')}`);
}

export type ActRequest = {
  run: RunRef;
  action: RunAction;
  as: string;
  /** The credential's user, when an admin acts for `as`. */
  via?: string;
  /** What proved who acts, for the audit trail. */
  credential?: string;
  reason?: string;
  /** Same key, same effect: a retried request is reported as `duplicate`. Random when absent. */
  idempotencyKey?: string;
};

export type ActResult = { status: 'applied' | 'duplicate'; run: RunView };

export type ModelView = {
  pipeline: string;
  version: number;
  modelType: string;
  task: string;
  metrics: Record<string, unknown>;
  datasetHash: string;
  specHash: string;
  run: number;
  createdAt: string;
  production: boolean;
  /** How this version serves: `production`, `canary`, `shadow` (scores beside production, answers no one), or null. */
  serving: 'production' | 'canary' | 'shadow' | null;
  /** Its share of prediction traffic, in percent (a shadow's is 0). */
  traffic: number;
};

/**
 * What people can do with runs, whichever way they come in (CLI, REST, chat). Refusals
 * become StewardErrors whose message says what to do.
 */
export type RunService = Deployments & {
  start(request: CreateRunRequest): Promise<{ run: RunView; created: boolean }>;
  list(filter?: RunFilter): Promise<RunView[]>;
  show(ref: RunRef): Promise<RunDetail>;
  act(request: ActRequest): Promise<ActResult>;
  pipelines(): Promise<string[]>;
  models(pipeline?: string): Promise<ModelView[]>;
};

const EVENT_OF: Record<RunAction, (reason?: string) => EventInput> = {
  approve: () => ({ type: 'approval.grant' }),
  reject: (reason) => (reason ? { type: 'approval.reject', reason } : { type: 'approval.reject' }),
  cancel: (reason) => (reason ? { type: 'run.cancel', reason } : { type: 'run.cancel' }),
};

export function createRunService({
  database,
  engine,
  catalog,
  clock = databaseClock,
}: {
  database: Database;
  engine: RunEngine;
  catalog: PipelineCatalog;
  clock?: Clock;
}): RunService {
  return {
    ...createDeployments({ database, engine, catalog, clock }),
    start: (request) => engine.createRun(request),
    async list(filter) {
      return (await listRuns(database.db, filter)).map(toView);
    },
    async show(ref) {
      if ('number' in ref && ref.number > MAX_RUN_NUMBER) throw notFound(ref);
      const row = await findRun(database.db, ref);
      if (!row) throw notFound(ref);
      const [events, attempts] = [
        await timeline(database.db, row.id),
        await stageAttemptsOf(database.db, row.id),
      ];
      return {
        run: toView(row),
        timeline: events.map((e) => ({
          seq: e.seq,
          at: e.createdAt.toISOString(),
          type: e.type,
          actor: e.actor,
          via: e.via,
          from: e.fromState,
          to: e.toState,
          reason: e.reason,
          detail: e.payload as Record<string, unknown>,
        })),
        attempts: attempts.map((a) => ({
          stage: a.stage,
          attempt: a.attempt,
          status: a.status,
          worker: a.workerId,
          startedAt: a.startedAt?.toISOString() ?? null,
          finishedAt: a.finishedAt?.toISOString() ?? null,
          error: a.error ? (a.error.split('\n')[0] ?? null) : null,
        })),
      };
    },
    async act({ run, action, as, via, credential, reason, idempotencyKey }) {
      const result = await engine.apply({
        run,
        event: EVENT_OF[action](reason),
        actor: as,
        ...(via ? { via } : {}),
        ...(credential ? { credential } : {}),
        idempotencyKey: idempotencyKey ?? `${action}:${as}:${randomUUID()}`,
        ...(reason ? { reason } : {}),
      });
      if (result.status === 'refused') throw new StewardError(result.code, result.message);
      return { status: result.status, run: result.run };
    },
    pipelines: () => catalog.names(),
    async models(pipeline) {
      return (await listModelVersions(database.db, pipeline)).map((m) => {
        const { confusion: _, ...metrics } = m.metrics as Record<string, unknown>;
        return {
          pipeline: m.pipeline,
          version: m.version,
          modelType: m.modelType,
          task: m.task,
          metrics,
          datasetHash: m.datasetHash,
          specHash: m.specHash,
          run: m.runNumber,
          createdAt: m.createdAt.toISOString(),
          production: m.productionVersion === m.version,
          ...servingOf(m),
        };
      });
    },
  };
}

/** Which share of traffic a version serves, from its pipeline's alias. */
function servingOf(m: {
  version: number;
  productionVersion: number | null;
  strategy: string | null;
  candidate: number | null;
  canaryPercent: number | null;
}): Pick<ModelView, 'serving' | 'traffic'> {
  const canary = m.strategy === 'canary' ? (m.canaryPercent ?? 0) : 0;
  if (m.version === m.productionVersion) return { serving: 'production', traffic: 100 - canary };
  if (m.version === m.candidate && m.strategy === 'canary') return { serving: 'canary', traffic: canary };
  if (m.version === m.candidate && m.strategy === 'shadow') return { serving: 'shadow', traffic: 0 };
  return { serving: null, traffic: 0 };
}
