import { describe, expect, it } from 'vitest';
import { generateSynthetic } from '../src/stages/data/synthetic.ts';
import type { Table } from '../src/stages/data/table.ts';
import { applyTransform } from '../src/stages/features/transform.ts';
import { loadFeatureTransform } from '../src/stages/features/transform-schema.ts';
import { loadAnyModel } from '../src/stages/ml/load-any.ts';
import { evaluate } from '../src/stages/pipeline/evaluate.ts';
import { features } from '../src/stages/pipeline/features.ts';
import { train } from '../src/stages/pipeline/train.ts';
import { PipelineSpec } from '../src/stages/spec.ts';
import type { StageName, StageRequest } from '../src/stages/stage.ts';

const context = { progress: () => {}, signal: new AbortController().signal };

/** Runs features → train → evaluate in-process on a table, as the worker would hand them over. */
async function fitAndEvaluate(spec: PipelineSpec, table: Table) {
  const inputs: Partial<Record<StageName, unknown>> = {};
  const request = (stage: StageName): StageRequest => ({
    run: { id: 'r', number: 1, pipeline: spec.name, kind: 'train', requestedBy: 'alice', params: {}, spec },
    stage,
    attempt: 1,
    inputs,
    artifacts: { dataset: table, champion: null },
  });
  inputs.features = (await features(request('features'), context)).output;
  inputs.train = (await train(request('train'), context)).output;
  const report = (await evaluate(request('evaluate'), context)).output as { metrics: Record<string, number> };
  return { report, inputs };
}

const churn = generateSynthetic('churn', { rows: 800, seed: 3 });
const housing = generateSynthetic('housing', { rows: 800, seed: 3 });

const specFor = (type: string, task: 'classification' | 'regression', params: Record<string, unknown> = {}) =>
  PipelineSpec.parse({
    name: 'fixture',
    task,
    source: { type: 'synthetic', generator: task === 'classification' ? 'churn' : 'housing' },
    target: task === 'classification' ? 'churned' : 'price',
    features: task === 'classification' ? { pii: ['email', 'customer_id'] } : {},
    model: { type, params },
  });

const withoutPii = {
  ...churn,
  columns: churn.columns.filter((c) => c.name !== 'email' && c.name !== 'customer_id'),
};

describe('every model type through the train and evaluate stages', () => {
  const fast: Record<string, Record<string, unknown>> = {
    mlp: { epochs: 15, hidden: [16] },
    random_forest: { n_estimators: 30 },
  };

  it.each(['logistic', 'gradient_boosting', 'random_forest', 'knn', 'mlp'])(
    '%s classifies better than a constant and survives a JSON round trip',
    async (type) => {
      const spec = specFor(type, 'classification', fast[type] ?? {});
      const { report, inputs } = await fitAndEvaluate(spec, withoutPii);
      // A constant score has ROC AUC 0.5 and accuracy = the majority share (about 0.75 here).
      expect(report.metrics.roc_auc).toBeGreaterThan(0.7);
      const model = (inputs.train as { model: unknown }).model;
      const transform = loadFeatureTransform((inputs.features as { transform: unknown }).transform);
      const X = applyTransform(transform, withoutPii);
      const original = await loadAnyModel(model);
      const restored = await loadAnyModel(JSON.parse(JSON.stringify(model)));
      expect(Array.from(restored.predict(X))).toEqual(Array.from(original.predict(X)));
    },
    60_000,
  );

  it.each(['linear', 'gradient_boosting', 'random_forest', 'knn', 'mlp'])(
    '%s regresses better than predicting the mean',
    async (type) => {
      const params = type === 'mlp' ? { epochs: 40, hidden: [16], learning_rate: 0.01 } : (fast[type] ?? {});
      const { report } = await fitAndEvaluate(specFor(type, 'regression', params), housing);
      // Predicting the mean has R² 0.
      expect(report.metrics.r2).toBeGreaterThan(0.5);
    },
    60_000,
  );

  it('handles more than two classes', async () => {
    const prices = housing.columns.find((c) => c.name === 'price')?.values as Float64Array;
    const band = Array.from(prices, (p) => (p < 200_000 ? 'low' : p < 300_000 ? 'mid' : 'high'));
    const table: Table = {
      rowCount: housing.rowCount,
      columns: [
        ...housing.columns.filter((c) => c.name !== 'price'),
        { name: 'band', type: 'categorical', values: band },
      ],
    };
    for (const type of ['logistic', 'gradient_boosting']) {
      const spec = PipelineSpec.parse({ ...specFor(type, 'classification'), target: 'band', features: {} });
      const { report } = await fitAndEvaluate(spec, table);
      expect(report.metrics.accuracy).toBeGreaterThan(0.5);
      expect(report.metrics.roc_auc).toBeGreaterThan(0.75);
    }
  });

  it('tunes hyper-parameters with cross-validation when model.tuning is set', async () => {
    const spec = PipelineSpec.parse({
      ...specFor('knn', 'classification'),
      model: { type: 'knn', tuning: { method: 'grid', folds: 3, metric: 'roc_auc', space: { k: [1, 25] } } },
    });
    const { inputs } = await fitAndEvaluate(spec, withoutPii);
    const trained = inputs.train as { params: { k: number }; tuning: { trials: number; metric: string } };
    expect(trained.tuning).toMatchObject({ trials: 2, metric: 'roc_auc' });
    expect(trained.params.k).toBe(25);
  });
});
