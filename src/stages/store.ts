import { and, desc, eq, isNotNull, max, ne, sql } from 'drizzle-orm';
import { lastUndoable, lockAlias, markUndone, setAlias } from '../db/alias-repo.ts';
import type { Queryable, Tx } from '../db/client.ts';
import { approvals, datasets, modelVersions, predictions, productionModels } from '../db/schema.ts';
import { type Clock, databaseClock } from '../workflows/clock.ts';
import { inferColumn } from './data/infer.ts';
import { packJson, packTable, unpackJson, unpackTable } from './data/serialize.ts';
import { createTable, type Table } from './data/table.ts';
import { planDeploy, planRollback } from './deploy-plan.ts';
import { PipelineSpec, specHash } from './spec.ts';
import { StageFailure, type StageRequest, type StageResult } from './stage.ts';

/**
 * The stages' storage, used by the worker on its own thread: `load` before a stage runs
 * (datasets, the production model), `save` in the same transaction that records the
 * stage as done (dataset snapshots, model versions, the production alias and its history). Stages in
 * worker threads thus never touch the database, and what a stage produced is stored
 * exactly once with the event that says it finished.
 */
export type StageStore = {
  load(db: Queryable, request: StageRequest): Promise<StageRequest['artifacts']>;
  save(tx: Tx, request: StageRequest, result: StageResult): Promise<StageResult>;
};

/** A store that keeps nothing, for stages that need none (engine tests). */
export const noStore: StageStore = { load: async () => ({}), save: async (_tx, _request, result) => result };

type IngestOutput = { datasetHash: string };
type TrainOutput = { model: unknown; modelType: string; params: unknown };
type FeaturesOutput = { transform: unknown };
type EvaluateOutput = { metrics: unknown; version?: number };

export async function loadDataset(db: Queryable, hash: string) {
  const [row] = await db.select().from(datasets).where(eq(datasets.hash, hash));
  if (!row) throw new StageFailure(`dataset ${hash.slice(0, 12)} is not stored; run the pipeline again`);
  return unpackTable(row.content);
}

export async function productionModel(db: Queryable, pipeline: string) {
  const [row] = await db
    .select({
      version: modelVersions.version,
      artifact: modelVersions.artifact,
      transform: modelVersions.transform,
    })
    .from(productionModels)
    .innerJoin(
      modelVersions,
      and(
        eq(modelVersions.pipeline, productionModels.pipeline),
        eq(modelVersions.version, productionModels.version),
      ),
    )
    .where(eq(productionModels.pipeline, pipeline));
  return row ? { version: row.version, model: unpackJson(row.artifact), transform: row.transform } : null;
}

/** The most labelled predictions a feedback retrain trains on: the newest. */
export const MAX_FEEDBACK_ROWS = 100_000;

/**
 * The pipeline's labelled predictions as a table: one column per logged feature, typed as a
 * CSV's cells would be, and `target` holding the label. Shadow scores are left out: their
 * rows are the production rows again.
 */
export async function labelledPredictions(db: Queryable, pipeline: string, target: string): Promise<Table> {
  const rows = await db
    .select({ features: predictions.features, label: sql<string>`${predictions.label}::text` })
    .from(predictions)
    .where(
      and(eq(predictions.pipeline, pipeline), isNotNull(predictions.label), ne(predictions.role, 'shadow')),
    )
    .orderBy(desc(predictions.id))
    .limit(MAX_FEEDBACK_ROWS);
  const records = rows.map((r) => ({
    ...(r.features as Record<string, unknown>),
    [target]: JSON.parse(r.label) as unknown,
  }));
  const names = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  return createTable(
    names.map((name) =>
      inferColumn(
        name,
        records.map((r) => cell(r[name])),
      ),
    ),
    records.length,
  );
}

export function createStageStore({ clock = databaseClock }: { clock?: Clock } = {}): StageStore {
  return {
    async load(db, request) {
      const ingest = request.inputs.ingest as IngestOutput | undefined;
      const needsData = ['checks', 'features', 'train', 'evaluate'].includes(request.stage);
      const artifacts: NonNullable<StageRequest['artifacts']> = {};
      if (needsData && ingest?.datasetHash) artifacts.dataset = await loadDataset(db, ingest.datasetHash);
      if (request.stage === 'evaluate') artifacts.champion = await productionModel(db, request.run.pipeline);
      if (request.stage === 'ingest' && request.run.cause?.source === 'feedback') {
        const spec = request.run.spec as { target: string };
        artifacts.feedback = await labelledPredictions(db, request.run.pipeline, spec.target);
      }
      return artifacts;
    },

    async save(tx, request, result) {
      const fresh = result.artifacts?.newDataset;
      if (fresh) {
        await tx
          .insert(datasets)
          .values({
            hash: fresh.hash,
            pipeline: request.run.pipeline,
            source: fresh.source,
            rowCount: fresh.table.rowCount,
            columns: fresh.table.columns.map((c) => ({ name: c.name, type: c.type })),
            profile: fresh.profile,
            content: packTable(fresh.table),
          })
          .onConflictDoNothing();
      }
      if (request.stage === 'evaluate') return registerModel(tx, request, result);
      if (request.stage === 'deploy') return deploy(tx, request, result, await clock.now(tx));
      return result;
    },
  };
}

/** Registers the evaluated model as the pipeline's next version (once per run). */
async function registerModel(tx: Tx, request: StageRequest, result: StageResult): Promise<StageResult> {
  const spec = PipelineSpec.parse(request.run.spec);
  const train = request.inputs.train as TrainOutput;
  const features = request.inputs.features as FeaturesOutput;
  const ingest = request.inputs.ingest as IngestOutput;
  const output = result.output as EvaluateOutput;
  const [existing] = await tx
    .select({ version: modelVersions.version })
    .from(modelVersions)
    .where(eq(modelVersions.runId, request.run.id));
  let version = existing?.version;
  if (version === undefined) {
    // Two runs of one pipeline may finish evaluating together: number their versions one
    // after the other instead of letting both take max + 1 (the loser would hit the unique key).
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext(${`model_versions:${request.run.pipeline}`}))`,
    );
    const [{ latest } = { latest: 0 }] = await tx
      .select({ latest: max(modelVersions.version) })
      .from(modelVersions)
      .where(eq(modelVersions.pipeline, request.run.pipeline));
    version = (latest ?? 0) + 1;
    await tx.insert(modelVersions).values({
      pipeline: request.run.pipeline,
      version,
      runId: request.run.id,
      datasetHash: ingest.datasetHash,
      specHash: specHash(spec),
      task: spec.task,
      modelType: train.modelType,
      params: train.params ?? {},
      artifact: packJson(train.model),
      transform: features.transform,
      metrics: output.metrics,
    });
  }
  return {
    ...result,
    output: { ...output, version },
    summary: { ...(result.summary as object), version },
  };
}

/**
 * Deploys: moves the production alias as the run asks (its new version with the spec's
 * strategy, the version a deploy run names, or a rollback), appending the alias history,
 * all in the transaction that records the stage done: a cancelled deploy changes nothing.
 */
async function deploy(tx: Tx, request: StageRequest, result: StageResult, now: Date): Promise<StageResult> {
  const { run } = request;
  const spec = PipelineSpec.parse(run.spec);
  const requested = run.params.version ? Number(run.params.version.replace(/^v/, '')) : undefined;
  const [row] = await tx
    .select({ version: modelVersions.version })
    .from(modelVersions)
    .where(
      requested !== undefined
        ? and(eq(modelVersions.pipeline, run.pipeline), eq(modelVersions.version, requested))
        : eq(modelVersions.runId, run.id),
    );
  if (!row) {
    throw new StageFailure(
      requested !== undefined
        ? `${run.pipeline} has no model version v${requested}`
        : `run #${run.number} registered no model version to deploy`,
    );
  }
  const before = await lockAlias(tx, run.pipeline);
  const plan =
    run.kind === 'rollback'
      ? planRollback(run.pipeline, before, await lastUndoable(tx, run.pipeline), {
          version: row.version,
          runId: run.id,
        })
      : planDeploy(run.pipeline, before, { version: row.version, runId: run.id, deploy: spec.deploy });
  if (plan.change) {
    const approvedBy = await tx
      .select({ user: approvals.userId })
      .from(approvals)
      .where(and(eq(approvals.runId, run.id), eq(approvals.decision, 'approved')));
    const entry = await setAlias(
      tx,
      run.pipeline,
      before,
      plan.next,
      {
        action: run.kind === 'rollback' ? 'rollback' : 'deploy',
        runId: run.id,
        actor: run.requestedBy,
        approvedBy: approvedBy.map((a) => a.user),
      },
      now,
    );
    if (plan.undoes !== undefined) await markUndone(tx, plan.undoes, entry);
  }
  return { ...result, output: { version: row.version, ...plan.summary }, summary: plan.summary };
}
