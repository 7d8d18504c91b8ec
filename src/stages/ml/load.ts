import { StewardError } from '../../errors.ts';
import { ForestClassifier, ForestRegressor } from './forest.ts';
import { GbmClassifier, GbmRegressor } from './gbm.ts';
import { KnnClassifier, KnnRegressor } from './knn.ts';
import { LinearModel } from './linear.ts';
import { LogisticModel } from './logistic.ts';
import type { Model } from './model.ts';

/**
 * Revives any saved model from its JSON (as produced by `toJSON()`), dispatching on
 * `kind` and `task`. This is the one place that knows every model class, so stages that
 * only deploy or evaluate a stored model need not.
 */
export function loadModel(json: unknown): Model {
  const { kind, task } = (typeof json === 'object' && json !== null ? json : {}) as {
    kind?: unknown;
    task?: unknown;
  };
  switch (`${String(kind)}/${String(task)}`) {
    case 'linear/regression':
      return LinearModel.fromJSON(json);
    case 'logistic/classification':
      return LogisticModel.fromJSON(json);
    case 'gbm/regression':
      return GbmRegressor.fromJSON(json);
    case 'gbm/classification':
      return GbmClassifier.fromJSON(json);
    case 'forest/regression':
      return ForestRegressor.fromJSON(json);
    case 'forest/classification':
      return ForestClassifier.fromJSON(json);
    case 'knn/regression':
      return KnnRegressor.fromJSON(json);
    case 'knn/classification':
      return KnnClassifier.fromJSON(json);
    default:
      throw new StewardError(
        'BAD_REQUEST',
        `saved model is not valid: unknown kind/task ${JSON.stringify(kind)}/${JSON.stringify(task)}`,
      );
  }
}
