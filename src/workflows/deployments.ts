import { and, eq } from 'drizzle-orm';
import {
  type AliasState,
  aliasOf,
  type HistoryRow,
  historyOf,
  lastUndoable,
  lockAlias,
  setAlias,
} from '../db/alias-repo.ts';
import type { Database } from '../db/client.ts';
import { modelVersions } from '../db/schema.ts';
import { StewardError } from '../errors.ts';
import type { PipelineCatalog } from '../stages/catalog.ts';
import {
  describeAlias,
  planDeploy,
  planPromote,
  planRollback,
  rollbackTarget,
} from '../stages/deploy-plan.ts';
import type { Clock } from './clock.ts';
import { hasRole } from './roles.ts';
import { type CreateRunRequest, type RunEngine, type RunView, roleOn } from './run-engine.ts';

/** A production alias as people and programs see it. */
export type AliasView = {
  pipeline: string;
  production: number;
  strategy: AliasState['strategy'];
  candidate: number | null;
  canaryPercent: number | null;
  canaryKey: string | null;
  /** "v3 with v4 as a 10% canary". */
  description: string;
};

/** One entry of the alias history: which version served from when until when, and why. */
export type HistoryEntry = {
  id: number;
  action: string;
  strategy: string;
  version: number;
  candidate: number | null;
  canaryPercent: number | null;
  replaced: number | null;
  run: number | null;
  actor: string;
  credential: string | null;
  approvedBy: string[];
  from: string;
  until: string | null;
  /** The id of the rollback that undid this change, if one did. */
  undoneBy: number | null;
};

/**
 * A deploy or rollback request: it becomes a run (through the approval gate unless an admin
 * asks), or, when it would change nothing, it is answered at once with why.
 */
export type DeploymentResult =
  | { status: 'started'; run: RunView; created: boolean }
  | { status: 'unchanged'; message: string; alias: AliasView | null };

type Requester = Omit<CreateRunRequest, 'pipeline' | 'params' | 'kind'>;

export type Deployments = {
  deploy(request: Requester & { pipeline: string; version: number }): Promise<DeploymentResult>;
  /** Back to what the last change replaced, or to `version`. */
  rollback(request: Requester & { pipeline: string; version?: number }): Promise<DeploymentResult>;
  /** Ends a canary or shadow deployment with its candidate in production; needs the approver role. */
  promote(request: {
    pipeline: string;
    as: string;
    via?: string;
    credential?: string;
  }): Promise<{ alias: AliasView; entry: HistoryEntry }>;
  alias(pipeline: string): Promise<AliasView | null>;
  history(pipeline: string, limit?: number): Promise<HistoryEntry[]>;
};

export function createDeployments({
  database,
  engine,
  catalog,
  clock,
}: {
  database: Database;
  engine: RunEngine;
  catalog: PipelineCatalog;
  clock: Clock;
}): Deployments {
  const db = database.db;

  async function requireVersion(pipeline: string, version: number): Promise<void> {
    const [row] = await db
      .select({ version: modelVersions.version })
      .from(modelVersions)
      .where(and(eq(modelVersions.pipeline, pipeline), eq(modelVersions.version, version)));
    if (!row) {
      throw new StewardError(
        'NOT_FOUND',
        `${pipeline} has no model version v${version}; \`steward models ${pipeline}\` lists its versions`,
      );
    }
  }

  const start = (kind: 'deploy' | 'rollback', request: Requester & { pipeline: string }, version: number) =>
    engine
      .createRun({ ...request, kind, params: { version: `v${version}` } })
      .then(({ run, created }): DeploymentResult => ({ status: 'started', run, created }));

  return {
    async deploy({ version, ...request }) {
      const spec = await catalog.get(request.pipeline);
      await requireVersion(spec.name, version);
      const before = await aliasOf(db, spec.name);
      const plan = planDeploy(spec.name, before, { version, runId: '', deploy: spec.deploy });
      if (!plan.change) return unchanged(plan.summary.unchanged, spec.name, before);
      return start('deploy', request, version);
    },
    async rollback({ version, ...request }) {
      const spec = await catalog.get(request.pipeline);
      const before = await aliasOf(db, spec.name);
      const undoable = await lastUndoable(db, spec.name);
      const target = version ?? rollbackTarget(spec.name, before, undoable);
      await requireVersion(spec.name, target);
      const plan = planRollback(spec.name, before, undoable, { version: target, runId: '' });
      if (!plan.change) return unchanged(plan.summary.unchanged, spec.name, before);
      return start('rollback', request, target);
    },
    async promote({ pipeline, as, via, credential }) {
      const spec = await catalog.get(pipeline);
      return db.transaction(async (tx) => {
        const role = await roleOn(tx, as, spec.name);
        if (!hasRole(role, 'approver') && !spec.approval.approvers.includes(as)) {
          throw new StewardError(
            'FORBIDDEN',
            `You need the approver role on ${spec.name} to promote (you are ${role ?? 'not granted any role'}).`,
          );
        }
        const before = await lockAlias(tx, spec.name);
        const plan = planPromote(spec.name, before);
        const id = await setAlias(
          tx,
          spec.name,
          before,
          plan.next,
          {
            action: 'promote',
            runId: null,
            actor: via ? `${as} via ${via}` : as,
            ...(credential ? { credential } : {}),
            approvedBy: [as],
          },
          await clock.now(tx),
        );
        const [entry] = await historyOf(tx, spec.name, 1);
        if (entry?.id !== id) throw new Error('the promotion was not recorded');
        return { alias: aliasView(spec.name, plan.next), entry: entryView(entry) };
      });
    },
    async alias(pipeline) {
      const spec = await catalog.get(pipeline);
      const state = await aliasOf(db, spec.name);
      return state ? aliasView(spec.name, state) : null;
    },
    async history(pipeline, limit) {
      const spec = await catalog.get(pipeline);
      return (await historyOf(db, spec.name, limit)).map(entryView);
    },
  };
}

function unchanged(
  message: string | undefined,
  pipeline: string,
  state: AliasState | null,
): DeploymentResult {
  return {
    status: 'unchanged',
    message: `${message ?? 'nothing to change'}; nothing changed`,
    alias: state ? aliasView(pipeline, state) : null,
  };
}

export function aliasView(pipeline: string, state: AliasState): AliasView {
  return {
    pipeline,
    production: state.version,
    strategy: state.strategy,
    candidate: state.candidate,
    canaryPercent: state.canaryPercent,
    canaryKey: state.canaryKey,
    description: describeAlias(state),
  };
}

function entryView(row: HistoryRow): HistoryEntry {
  return {
    id: row.id,
    action: row.action,
    strategy: row.strategy,
    version: row.version,
    candidate: row.candidate,
    canaryPercent: row.canaryPercent,
    replaced: row.replaced,
    run: row.runNumber,
    actor: row.actor,
    credential: row.credential,
    approvedBy: row.approvedBy,
    from: row.fromAt.toISOString(),
    until: row.untilAt?.toISOString() ?? null,
    undoneBy: row.undoneBy,
  };
}
