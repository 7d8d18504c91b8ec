import { describe, expect, it } from 'vitest';
import { generateSynthetic } from '../src/stages/data/synthetic.ts';
import type { Table } from '../src/stages/data/table.ts';
import {
  type Curve,
  MAX_ROC_POINTS,
  predictedPairs,
  rocCurve,
  trapezoidArea,
} from '../src/stages/evaluate/curves.ts';
import { rocAuc } from '../src/stages/ml/metrics.ts';
import { createRng } from '../src/stages/ml/random.ts';
import { evaluate } from '../src/stages/pipeline/evaluate.ts';
import { features } from '../src/stages/pipeline/features.ts';
import { train } from '../src/stages/pipeline/train.ts';
import { PipelineSpec } from '../src/stages/spec.ts';
import type { StageName, StageRequest } from '../src/stages/stage.ts';

const context = { progress: () => {}, signal: new AbortController().signal };

type RocOutput = Extract<Curve, { kind: 'roc' }>;
type EvaluateOutput = {
  metrics: Record<string, number>;
  holdoutRows: number;
  champion: { version: number; metrics: Record<string, number> | null } | null;
  curves: { candidate: Curve; production: Curve | null } | null;
};

/** Area under stored ROC counts, as rates. */
const areaOf = (c: RocOutput) => trapezoidArea(c.points, c.negatives, c.positives);

/** Scores with ties (rounded to 0.05) for `n` rows, 30% positive. */
function scored(n: number, seed: number, round = true) {
  const rng = createRng(seed);
  const y = Float64Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const s = Float64Array.from(y, (v) => {
    const raw = 0.6 * v + rng.normal();
    return round ? Math.round(raw * 20) / 20 : raw;
  });
  return { y, s };
}

describe('the ROC curve stored for the approval chart', () => {
  it('has exactly the Mann–Whitney AUC as its trapezoid area, ties included, when nothing is dropped', () => {
    const { y, s } = scored(400, 1);
    const curve = rocCurve(y, s, 1, 'yes') as RocOutput;
    expect(curve.points.length).toBeLessThanOrEqual(MAX_ROC_POINTS);
    expect(curve.points[0]).toEqual([0, 0]);
    expect(curve.points.at(-1)).toEqual([curve.negatives, curve.positives]);
    expect(curve.negatives + curve.positives).toBe(400);
    expect(Math.abs(areaOf(curve) - rocAuc(y, s, 1))).toBeLessThan(1e-12);
    expect(Math.abs(curve.auc - rocAuc(y, s, 1))).toBeLessThan(1e-12);
  });

  it(`keeps at most ${MAX_ROC_POINTS} points of a long curve, in order, drawing nearly the same area`, () => {
    const { y, s } = scored(20_000, 2, false);
    const curve = rocCurve(y, s, 1, 'yes') as RocOutput;
    expect(curve.points).toHaveLength(MAX_ROC_POINTS);
    expect(curve.points[0]).toEqual([0, 0]);
    expect(curve.points.at(-1)).toEqual([curve.negatives, curve.positives]);
    for (let i = 1; i < curve.points.length; i++) {
      const [f0, t0] = curve.points[i - 1] as [number, number];
      const [f1, t1] = curve.points[i] as [number, number];
      expect(f1 >= f0 && t1 >= t0).toBe(true);
    }
    expect(Math.abs(curve.auc - rocAuc(y, s, 1))).toBeLessThan(1e-12);
    expect(Math.abs(areaOf(curve) - curve.auc)).toBeLessThan(2e-4);
    expect(JSON.stringify(curve).length).toBeLessThan(4000);
  });

  it('is absent when the holdout has one class only', () => {
    expect(rocCurve(new Float64Array([1, 1, 1]), new Float64Array([0.2, 0.4, 0.9]), 1, 'yes')).toBeNull();
  });

  it('samples (actual, predicted) pairs from evenly spaced rows, the same rows every time', () => {
    const actual = Float64Array.from({ length: 2000 }, (_, i) => i);
    const pairs = predictedPairs(
      actual,
      actual.map((v) => v * 2 + 0.123456789),
    );
    expect(pairs.rows).toBe(2000);
    expect(pairs.points).toHaveLength(500);
    expect(pairs.points.slice(0, 2)).toEqual([
      [0, 0.12346],
      [4, 8.1235],
    ]);
    expect(predictedPairs(actual, actual).points).toEqual(predictedPairs(actual, actual).points);
  });
});

/** features → train → evaluate in-process, with `champion` (a trained train/features output pair) in production. */
async function runStages(
  spec: PipelineSpec,
  table: Table,
  champion?: { model: unknown; transform: unknown },
): Promise<{
  evaluated: { output: EvaluateOutput; summary: Record<string, unknown> };
  trained: Record<string, unknown>;
}> {
  const inputs: Partial<Record<StageName, unknown>> = {};
  const request = (stage: StageName): StageRequest => ({
    run: { id: 'r', number: 2, pipeline: spec.name, kind: 'train', requestedBy: 'alice', params: {}, spec },
    stage,
    attempt: 1,
    inputs,
    artifacts: {
      dataset: table,
      champion: champion ? { version: 1, model: champion.model, transform: champion.transform } : null,
    },
  });
  inputs.features = (await features(request('features'), context)).output;
  inputs.train = (await train(request('train'), context)).output;
  const evaluated = await evaluate(request('evaluate'), context);
  return {
    evaluated: evaluated as { output: EvaluateOutput; summary: Record<string, unknown> },
    trained: inputs.train as Record<string, unknown>,
  };
}

const specFor = (type: string, task: 'classification' | 'regression', params: Record<string, unknown> = {}) =>
  PipelineSpec.parse({
    name: 'fixture',
    task,
    source: { type: 'synthetic', generator: task === 'classification' ? 'churn' : 'housing' },
    target: task === 'classification' ? 'churned' : 'price',
    features: task === 'classification' ? { pii: ['email', 'customer_id'] } : {},
    model: { type, params },
  });

/** A model of `type` trained on `table`, as the registry would hand it to a later run's evaluate. */
async function productionModel(spec: PipelineSpec, table: Table) {
  const { trained } = await runStages(spec, table);
  const inputs: Partial<Record<StageName, unknown>> = {};
  const request: StageRequest = {
    run: { id: 'p', number: 1, pipeline: spec.name, kind: 'train', requestedBy: 'alice', params: {}, spec },
    stage: 'features',
    attempt: 1,
    inputs,
    artifacts: { dataset: table, champion: null },
  };
  const transform = ((await features(request, context)).output as { transform: unknown }).transform;
  return { model: trained.model, transform };
}

describe('the evaluate stage stores the curves beside the metrics', () => {
  const churn = generateSynthetic('churn', { rows: 1200, seed: 5 });
  const housing = generateSynthetic('housing', { rows: 900, seed: 5 });

  it('stores ROC curves for this run and production whose areas are the roc_auc metrics', async () => {
    const champion = await productionModel(specFor('knn', 'classification'), churn);
    const { evaluated } = await runStages(specFor('logistic', 'classification'), churn, champion);
    const { output, summary } = evaluated;
    const candidate = output.curves?.candidate as RocOutput;
    const production = output.curves?.production as RocOutput;
    expect(candidate).toMatchObject({ kind: 'roc', positive: '1' });
    expect(candidate.negatives + candidate.positives).toBe(output.holdoutRows);
    // roc_auc is rounded to 6 decimals; the stored points draw the full curve (240 rows, no thinning).
    expect(Math.abs(areaOf(candidate) - (output.metrics.roc_auc ?? Number.NaN))).toBeLessThanOrEqual(5e-7);
    expect(Math.abs(candidate.auc - areaOf(candidate))).toBeLessThan(1e-12);
    expect(production).toMatchObject({
      kind: 'roc',
      negatives: candidate.negatives,
      positives: candidate.positives,
    });
    const championAuc = output.champion?.metrics?.roc_auc ?? Number.NaN;
    expect(Math.abs(areaOf(production) - championAuc)).toBeLessThanOrEqual(5e-7);
    expect(areaOf(production)).not.toBeCloseTo(areaOf(candidate), 4);
    // Small in the output, and absent from the summary that the run's snapshot carries.
    expect(JSON.stringify(output.curves).length).toBeLessThan(8000);
    expect(summary).not.toHaveProperty('curves');
    expect(JSON.stringify(summary)).not.toContain('points');
  }, 60_000);

  it('stores (actual, predicted) pairs for regression, for both models on the same rows', async () => {
    const champion = await productionModel(specFor('knn', 'regression'), housing);
    const { output } = (await runStages(specFor('linear', 'regression'), housing, champion)).evaluated;
    const candidate = output.curves?.candidate as Extract<Curve, { kind: 'predicted_vs_actual' }>;
    const production = output.curves?.production as Extract<Curve, { kind: 'predicted_vs_actual' }>;
    expect(candidate).toMatchObject({ kind: 'predicted_vs_actual', rows: output.holdoutRows });
    expect(candidate.points).toHaveLength(Math.min(500, output.holdoutRows));
    expect(production.points.map((p) => p[0])).toEqual(candidate.points.map((p) => p[0]));
    expect(production.points.map((p) => p[1])).not.toEqual(candidate.points.map((p) => p[1]));
  }, 60_000);

  it('stores no curve for more than two classes, and no production curve without production', async () => {
    const prices = housing.columns.find((c) => c.name === 'price')?.values as Float64Array;
    const band = Array.from(prices, (p) => (p < 200_000 ? 'low' : p < 300_000 ? 'mid' : 'high'));
    const table: Table = {
      rowCount: housing.rowCount,
      columns: [
        ...housing.columns.filter((c) => c.name !== 'price'),
        { name: 'band', type: 'categorical', values: band },
      ],
    };
    const spec = PipelineSpec.parse({
      ...specFor('logistic', 'classification'),
      target: 'band',
      features: {},
    });
    expect((await runStages(spec, table)).evaluated.output.curves).toBeNull();
    const binary = (await runStages(specFor('logistic', 'classification'), churn)).evaluated.output;
    expect(binary.curves).toMatchObject({ candidate: { kind: 'roc' }, production: null });
  }, 60_000);

  it("records an MLP's loss per epoch in the train output", async () => {
    const spec = specFor('mlp', 'classification', { epochs: 6, hidden: [8], validation_split: 0.2 });
    const { trained } = await runStages(spec, churn);
    const history = trained.history as { loss: number[]; valLoss: number[]; bestEpoch: number };
    expect(history.loss).toHaveLength(6);
    expect(history.valLoss).toHaveLength(6);
    expect(history.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(history.loss.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect((await runStages(specFor('logistic', 'classification'), churn)).trained.history).toBeNull();
  }, 60_000);
});
