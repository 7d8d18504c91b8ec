import { selectRows } from '../ml/matrix.ts';
import type { MlpHistory } from '../ml/mlp.ts';
import { modelParamsOf } from '../run-params.ts';
import { PipelineSpec } from '../spec.ts';
import type { StageFn } from '../stage.ts';
import { fitModel } from '../train/fit-model.ts';
import { failOnBadInput } from './failures.ts';
import { pick, prepare, requireDataset, requireTransform } from './inputs.ts';

/**
 * Train: fits the spec's model on the training rows (the holdout stays unseen), after a
 * hyper-parameter search when `model.tuning` asks for one. Run params override model
 * params (`steward run churn epochs=30`).
 */
export const train: StageFn = async (request, context) => {
  const spec = PipelineSpec.parse(request.run.spec);
  const type = spec.model.type;
  const params = await failOnBadInput('train', () => modelParamsOf(spec, request.run.params));
  const { X, y, split } = await failOnBadInput('train', () =>
    prepare(spec, requireDataset(request), requireTransform(request)),
  );
  context.progress(`training ${type} on ${split.train.length} rows × ${X.cols} features`);
  const started = performance.now();
  const fitted = await failOnBadInput('train', () =>
    fitModel({
      type,
      task: spec.task,
      X: selectRows(X, split.train),
      y: pick(y, split.train),
      params: params as Record<string, unknown>,
      ...(spec.model.tuning ? { tuning: spec.model.tuning } : {}),
      onProgress: context.progress,
    }),
  );
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  const tuning = fitted.tuning
    ? {
        metric: fitted.tuning.metric,
        bestScore: fitted.tuning.bestScore,
        trials: fitted.tuning.trials.length,
      }
    : undefined;
  const history = fitted.model.kind === 'mlp' ? lossHistory(fitted.model.history) : null;
  return {
    output: {
      model: fitted.model.toJSON(),
      modelType: type,
      params: fitted.params,
      tuning: tuning ?? null,
      history,
    },
    summary: {
      model: type,
      params: fitted.params,
      trainRows: split.train.length,
      seconds,
      ...(tuning ? { tuning } : {}),
    },
  };
};

const sixDigits = (v: number) => Number(v.toPrecision(6));

/**
 * The loss per epoch, for the approval chart of a model without curves to compare. The
 * model's JSON holds it too, but reading that means reading every weight.
 */
function lossHistory(history: MlpHistory): MlpHistory {
  return {
    loss: history.loss.map(sixDigits),
    ...(history.valLoss ? { valLoss: history.valLoss.map(sixDigits) } : {}),
    bestEpoch: history.bestEpoch,
  };
}
