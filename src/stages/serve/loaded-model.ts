import { and, eq } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { modelVersions, pipelines } from '../../db/schema.ts';
import { StewardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import { unpackJson } from '../data/serialize.ts';
import { type FeatureTransform, loadFeatureTransform } from '../features/transform-schema.ts';
import { type AnyModel, loadAnyModel } from '../ml/load-any.ts';
import { MonitoringSpec } from '../spec.ts';

/**
 * One model version as serving holds it: the revived model, the transform that turns
 * request rows into its features, and the labels its class indices stand for. Built once
 * per process and version, then shared by every request; never changed after it is built.
 */
export type LoadedModel = {
  readonly pipeline: string;
  readonly version: number;
  readonly task: 'classification' | 'regression';
  readonly model: AnyModel;
  readonly transform: FeatureTransform;
  /**
   * Classifiers: the label of each probability column, in the model's column order
   * (`transform.target.classes[model.classes[k]]`). Empty for a regressor.
   */
  readonly labels: readonly string[];
  /** The request fields the transform reads, in its order; the only fields ever logged. */
  readonly inputs: readonly string[];
};

/** Reads a model version from `model_versions` and revives it. NOT_FOUND if there is none. */
export async function loadModelVersion(
  db: Queryable,
  pipeline: string,
  version: number,
): Promise<LoadedModel> {
  const [row] = await db
    .select({
      artifact: modelVersions.artifact,
      transform: modelVersions.transform,
      task: modelVersions.task,
    })
    .from(modelVersions)
    .where(and(eq(modelVersions.pipeline, pipeline), eq(modelVersions.version, version)));
  if (!row) {
    throw new StewardError(
      'NOT_FOUND',
      `${pipeline} has no model version v${version}; \`steward models\` lists the versions`,
    );
  }
  const transform = loadFeatureTransform(row.transform);
  const model = await loadAnyModel(unpackJson(row.artifact));
  if (model.task !== transform.target.task) {
    throw new StewardError(
      'BAD_REQUEST',
      `${pipeline} v${version} is a ${model.task} model but its transform is for ${transform.target.task}`,
    );
  }
  const width = transform.features.length;
  if (model.nFeatures !== width) {
    throw new StewardError(
      'BAD_REQUEST',
      `${pipeline} v${version} takes ${model.nFeatures} features but its transform makes ${width}`,
    );
  }
  let labels: string[] = [];
  if (model.task === 'classification' && transform.target.task === 'classification') {
    const classes = transform.target.classes;
    labels = Array.from(model.classes, (code) => {
      const label = classes[code];
      if (label === undefined) {
        throw new StewardError(
          'BAD_REQUEST',
          `${pipeline} v${version} predicts class ${code}, which has no label`,
        );
      }
      return label;
    });
  }
  return {
    pipeline,
    version,
    task: model.task,
    model,
    transform,
    labels,
    inputs: transform.inputs.map((step) => step.name),
  };
}

/** The pipeline's `monitoring` section from its current spec; the defaults without one. */
export async function monitoringOf(db: Queryable, pipeline: string, log: Logger): Promise<MonitoringSpec> {
  const [row] = await db.select({ spec: pipelines.spec }).from(pipelines).where(eq(pipelines.name, pipeline));
  const section = (row?.spec as { monitoring?: unknown } | undefined)?.monitoring ?? {};
  const parsed = MonitoringSpec.safeParse(section);
  if (parsed.success) return parsed.data;
  log.warn('pipeline monitoring section is not valid; serving with the defaults', { pipeline });
  return MonitoringSpec.parse({});
}

/** Frees what a model holds outside the JS heap (an MLP's TensorFlow weights). */
export function disposeModel(loaded: LoadedModel): void {
  const model = loaded.model as { dispose?: () => void };
  model.dispose?.();
}
