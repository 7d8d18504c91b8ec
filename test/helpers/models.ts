import { type AliasState, lockAlias, setAlias as moveAlias } from '../../src/db/alias-repo.ts';
import type { Database } from '../../src/db/client.ts';
import { datasets, modelVersions, pipelines, runs } from '../../src/db/schema.ts';
import { packJson, packTable } from '../../src/stages/data/serialize.ts';
import { CHURN, generateChurn } from '../../src/stages/data/synthetic-churn.ts';
import type { Table } from '../../src/stages/data/table.ts';
import { encodeTarget } from '../../src/stages/features/target.ts';
import { applyTransform, fitTransform } from '../../src/stages/features/transform.ts';
import type { FeatureTransform } from '../../src/stages/features/transform-schema.ts';
import { fitModel } from '../../src/stages/train/fit-model.ts';

/** Two real churn models on one transform: gradient boosting and logistic regression, as JSON. */
export type ChurnModels = {
  table: Table;
  transform: FeatureTransform;
  gbm: unknown;
  logistic: unknown;
};

/** Synthetic churn rows, the churn transform fitted on them (PII dropped), and the training matrix. */
export function churnTrainingData(rows: number, seed = 7) {
  const table = generateChurn({ rows, seed });
  const transform = fitTransform(table, {
    target: CHURN.target,
    task: 'classification',
    spec: { pii: [...CHURN.pii] },
  });
  const X = applyTransform(transform, table);
  const { y } = encodeTarget(table, 'classification', {
    column: CHURN.target,
    classes: transform.target.task === 'classification' ? transform.target.classes : [],
  });
  return { table, transform, X, y };
}

let trained: Promise<ChurnModels> | undefined;

/** Trains (once per test file) a small gradient-boosting and a logistic churn model on synthetic data. */
export function churnModels(): Promise<ChurnModels> {
  trained ??= (async () => {
    const { table, transform, X, y } = churnTrainingData(1200);
    const gbm = await fitModel({
      type: 'gradient_boosting',
      task: 'classification',
      X,
      y,
      params: { max_iter: 20, max_leaf_nodes: 8 },
    });
    const logistic = await fitModel({ type: 'logistic', task: 'classification', X, y, params: {} });
    return { table, transform, gbm: gbm.model.toJSON(), logistic: logistic.model.toJSON() };
  })();
  return trained;
}

/** Rows `from..from+n` of the churn table as a client would send them (PII and target included). */
export function churnRows(table: Table, n: number, from = 0): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, k) => {
    const i = (from + k) % table.rowCount;
    const row: Record<string, unknown> = {};
    for (const column of table.columns) {
      if (column.name === CHURN.target) continue;
      row[column.name] = column.values[i] ?? null;
    }
    return row;
  });
}

/**
 * Registers `churn`-style versions in `model_versions` (with the `runs` and `datasets`
 * rows their keys need) and the pipeline's spec (for its monitoring section).
 */
export async function registerVersions(
  database: Database,
  pipeline: string,
  versions: { version: number; model: unknown; modelType: string }[],
  options: {
    transform: FeatureTransform;
    monitoring?: Record<string, unknown>;
    /** The training data, stored as the versions' dataset (what drift checks compare with). */
    dataset?: Table;
    /** The versions' holdout metrics. */
    metrics?: Record<string, number>;
  },
): Promise<Map<number, string>> {
  const db = database.db;
  const datasetHash = `test-${pipeline}`;
  await db
    .insert(datasets)
    .values({
      hash: datasetHash,
      pipeline,
      source: {},
      rowCount: options.dataset?.rowCount ?? 0,
      columns: [],
      profile: {},
      content: options.dataset ? packTable(options.dataset) : Buffer.from(''),
    })
    .onConflictDoNothing();
  const spec = { name: pipeline, monitoring: options.monitoring ?? {} };
  await db
    .insert(pipelines)
    .values({ name: pipeline, spec, specHash: 'test' })
    .onConflictDoUpdate({ target: pipelines.name, set: { spec } });
  const runIds = new Map<number, string>();
  for (const { version, model, modelType } of versions) {
    const [run] = await db
      .insert(runs)
      .values({
        pipeline,
        kind: 'train',
        state: 'deployed',
        snapshot: {},
        machineVersion: 1,
        version: 1,
        requestedBy: 'test',
        params: {},
        spec,
      })
      .returning({ id: runs.id });
    const runId = run?.id as string;
    runIds.set(version, runId);
    await db.insert(modelVersions).values({
      pipeline,
      version,
      runId,
      datasetHash,
      specHash: 'test',
      task: 'classification',
      modelType,
      params: {},
      artifact: packJson(model),
      transform: options.transform,
      metrics: options.metrics ?? {},
    });
  }
  return runIds;
}

export type AliasChange = {
  version: number;
  runId: string;
  strategy?: 'replace' | 'shadow' | 'canary';
  candidate?: number | null;
  canaryPercent?: number | null;
  canaryKey?: string | null;
};

/**
 * Moves the production alias as a deploy does (`lockAlias` + `setAlias`: history entry,
 * generation bumped, `pg_notify('steward_models', pipeline)` in one transaction).
 */
export async function setAlias(database: Database, pipeline: string, change: AliasChange): Promise<void> {
  const strategy = change.strategy ?? 'replace';
  const next: AliasState = {
    version: change.version,
    runId: change.runId,
    strategy,
    candidate: strategy === 'replace' ? null : (change.candidate ?? null),
    canaryPercent: change.canaryPercent ?? null,
    canaryKey: change.canaryKey ?? null,
  };
  await database.db.transaction(async (tx) => {
    const before = await lockAlias(tx, pipeline);
    await moveAlias(
      tx,
      pipeline,
      before,
      next,
      { action: 'deploy', runId: change.runId, actor: 'test', approvedBy: [] },
      new Date(),
    );
  });
}
