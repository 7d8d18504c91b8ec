import { loadModel } from './load.ts';
import { MlpModel } from './mlp.ts';
import type { Model } from './model.ts';

/**
 * Any saved model, the MLP included. `load.ts`'s `loadModel` is synchronous and stays so
 * for the models we compute ourselves; TensorFlow's loader is asynchronous, so a stage
 * that may meet an MLP revives models through this instead.
 *
 * `MlpModel` is listed beside `Model` because model.ts's `ModelKind` does not include
 * 'mlp' yet; once it does, `AnyModel` is the same type as `Model`.
 */
export type AnyModel = Model | MlpModel;

/** Revives a model from its `toJSON()` output, dispatching on `kind`. */
export async function loadAnyModel(json: unknown): Promise<AnyModel> {
  const kind = typeof json === 'object' && json !== null ? (json as { kind?: unknown }).kind : undefined;
  if (kind === 'mlp') return MlpModel.fromJSON(json);
  return loadModel(json);
}
