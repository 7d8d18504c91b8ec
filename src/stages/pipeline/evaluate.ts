import type { Curve } from '../evaluate/curves.ts';
import {
  better,
  checkThresholds,
  describeMiss,
  type Metrics,
  scoreModel,
  scoreWithCurve,
} from '../evaluate/score.ts';
import { encodeTarget } from '../features/target.ts';
import { applyTransform } from '../features/transform.ts';
import { loadFeatureTransform } from '../features/transform-schema.ts';
import { kFold, selectRows } from '../ml/index.ts';
import { loadAnyModel } from '../ml/load-any.ts';
import { PipelineSpec } from '../spec.ts';
import { StageFailure, type StageFn, type StageRequest } from '../stage.ts';
import { fitModel } from '../train/fit-model.ts';
import { failOnBadInput } from './failures.ts';
import { pick, prepare, requireDataset, requireTransform, takeRows } from './inputs.ts';

type Champion = { version: number; metrics: Metrics | null; note?: string; curve?: Curve | null };

/** Scores the production model on the same holdout rows, through its own transform. */
async function scoreChampion(
  request: StageRequest,
  spec: PipelineSpec,
  test: Int32Array,
): Promise<Champion | null> {
  const champion = request.artifacts?.champion;
  if (!champion) return null;
  try {
    const transform = loadFeatureTransform(champion.transform);
    const rows = takeRows(requireDataset(request), test);
    const classes = transform.target.task === 'classification' ? transform.target.classes : undefined;
    const target = encodeTarget(rows, spec.task, { column: spec.target, ...(classes ? { classes } : {}) });
    const model = await loadAnyModel(champion.model);
    const scored = scoreWithCurve(model, applyTransform(transform, rows), target.y, {
      ...(classes?.[1] !== undefined ? { positiveLabel: classes[1] } : {}),
    });
    return { version: champion.version, metrics: scored.metrics, curve: scored.curve };
  } catch (error) {
    // A changed schema or label set makes the comparison meaningless, not the run invalid.
    return { version: champion.version, metrics: null, note: `not comparable: ${(error as Error).message}` };
  }
}

const headline = ({ confusion: _, ...rest }: Metrics) => rest;

/** Production's curve when it can share a chart with the candidate's: same kind, same positive class. */
function comparable(candidate: Curve, production: Curve | null | undefined): Curve | null {
  if (!production || production.kind !== candidate.kind) return null;
  if (production.kind === 'roc' && candidate.kind === 'roc' && production.positive !== candidate.positive)
    return null;
  return production;
}

/**
 * Evaluate: holdout metrics (plus k-fold on the training rows when asked), the spec's
 * threshold gates, and champion/challenger against the production version. A missed gate
 * ends the run with the metric, the threshold and the gap.
 */
export const evaluate: StageFn = async (request, context) => {
  const spec = PipelineSpec.parse(request.run.spec);
  const trained = request.inputs.train as { model: unknown; params: Record<string, unknown> };
  const { X, y, split, classes } = await failOnBadInput('evaluate', () =>
    prepare(spec, requireDataset(request), requireTransform(request)),
  );
  const model = await loadAnyModel(trained.model);
  const { metrics, curve } = scoreWithCurve(model, selectRows(X, split.test), pick(y, split.test), {
    ...(classes?.[1] !== undefined ? { positiveLabel: classes[1] } : {}),
  });

  let cv: { folds: number; mean: Metrics } | null = null;
  if (spec.validation.folds >= 2) {
    const Xtrain = selectRows(X, split.train);
    const ytrain = pick(y, split.train);
    const folds = kFold(split.train.length, spec.validation.folds, {
      seed: spec.validation.seed,
      ...(spec.task === 'classification' ? { stratify: ytrain } : {}),
    });
    const scores: Metrics[] = [];
    for (const [i, fold] of folds.entries()) {
      context.progress(`cross-validation fold ${i + 1}/${folds.length}`, i / folds.length);
      const { model: m } = await fitModel({
        type: spec.model.type,
        task: spec.task,
        X: selectRows(Xtrain, fold.train),
        y: pick(ytrain, fold.train),
        params: trained.params,
      });
      scores.push(headline(scoreModel(m, selectRows(Xtrain, fold.test), pick(ytrain, fold.test))));
    }
    const names = Object.keys(scores[0] ?? {}) as (keyof Metrics)[];
    const mean = Object.fromEntries(
      names.map((n) => [
        n,
        Math.round((scores.reduce((s, m) => s + Number(m[n] ?? 0), 0) / scores.length) * 1e6) / 1e6,
      ]),
    );
    cv = { folds: folds.length, mean };
  }

  const thresholds = checkThresholds(metrics, spec.validation.thresholds);
  const champion = await scoreChampion(request, spec, split.test);
  const misses = thresholds.filter((t) => !t.passed).map(describeMiss);
  const gate = spec.validation.must_beat_production;
  let comparison: { metric: string; challenger: number; champion: number; delta: number } | null = null;
  if (champion?.metrics) {
    const metric = gate ?? (spec.task === 'classification' ? 'roc_auc' : 'rmse');
    const a = metrics[metric];
    const b = champion.metrics[metric];
    if (a !== undefined && b !== undefined) {
      comparison = { metric, challenger: a, champion: b, delta: Math.round((a - b) * 1e6) / 1e6 };
      if (gate && !better(gate, a, b)) {
        misses.push(
          `${gate} ${a.toFixed(3)} does not beat production v${champion.version} (${b.toFixed(3)})`,
        );
      }
    }
  }
  const { curve: championCurve, ...championReport } = champion ?? {};
  const report = {
    metrics,
    holdoutRows: split.test.length,
    thresholds,
    champion: champion
      ? { ...championReport, metrics: champion.metrics && headline(champion.metrics) }
      : null,
    comparison,
    cv,
  };
  if (misses.length > 0) {
    throw new StageFailure(`validation failed:\n${misses.map((m) => `  ✗ ${m}`).join('\n')}`);
  }
  // The curves stay out of the summary, which every event rewrites with the run's snapshot.
  const curves = curve ? { candidate: curve, production: comparable(curve, championCurve) } : null;
  return { output: { ...report, curves }, summary: { ...report, metrics: headline(metrics) } };
};
