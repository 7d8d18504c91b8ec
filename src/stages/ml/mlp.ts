import type { io, Tensor, Tensor2D } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import { invalidModel } from './json.ts';
import { encodeLabels, labelsFromProba, requireClasses } from './labels.ts';
import { type Matrix, matrix } from './matrix.ts';
import type { Classifier, Regressor, Task } from './model.ts';
import { createRng } from './random.ts';
import { holdoutSplit } from './split.ts';
import { loadTf, type TfCore } from './tf.ts';
import { checkPredict, checkTraining } from './validate.ts';

/**
 * A multi-layer perceptron (dense layers, Adam) on TensorFlow.js, for the `mlp` model type.
 *
 * Unlike the rest of the numeric core this model is not ours end to end: TensorFlow holds
 * the weights (as float32 tensors, on the backend `loadTf` picked) and does the arithmetic.
 * What we keep from the core's contract:
 * - Reproducible: kernels are initialised from seeds derived from `seed`, and rows are
 *   shuffled each epoch by our seeded RNG (TensorFlow's own shuffle uses Math.random), so
 *   the same data, params and backend give the same weights bit for bit.
 * - Plain JSON: `toJSON()` is the Keras topology, the weight manifest and the weights as
 *   base64, which `MlpModel.fromJSON` loads back with bit-identical predictions.
 * - Synchronous `predict`/`predictProba` like every other model.
 *
 * Inputs are not standardised here: the features stage has already transformed them. The
 * regression target is not scaled either, so a target in the thousands trains slowly with
 * the default learning rate; scale it upstream.
 *
 * Because the weights live in TensorFlow's memory (the wasm heap, not the JS heap), a
 * model that is no longer needed should be `dispose()`d; the garbage collector cannot.
 */

/** Hyperparameters as a pipeline spec writes them (`model.params`), with their defaults. */
export const MlpParams = z
  .object({
    /** Units of each hidden layer, input side first. [] gives a linear/logistic model. */
    hidden: z.array(z.number().int().min(1).max(4096)).max(32).default([32, 16]),
    epochs: z.number().int().min(1).max(100_000).default(20),
    batch_size: z.number().int().min(1).default(64),
    /** Adam's step size. */
    learning_rate: z.number().positive().max(1).default(0.001),
    /** Hidden-layer activation; the output layer's follows from the task. */
    activation: z.enum(['relu', 'tanh']).default('relu'),
    /** L2 penalty on every kernel (not biases), Keras-style: l2 · Σw² added to the loss. */
    l2: z.number().min(0).default(0),
    seed: z.number().int().default(42),
    /** Fraction of rows held out (seeded; stratified for classification) to report val_loss. */
    validation_split: z.number().min(0).lt(1).default(0),
    /**
     * Stop after this many epochs without a lower loss (val_loss when validation_split > 0,
     * else the training loss) and restore the best epoch's weights. 0 turns it off.
     */
    early_stopping_patience: z.number().int().min(0).default(0),
  })
  .strict();
export type MlpParams = z.infer<typeof MlpParams>;
/** What a caller may pass (every field optional, defaults applied by `MlpParams`). */
export type MlpParamsInput = z.input<typeof MlpParams>;

/** Per-epoch metrics passed to `onEpoch`. */
export type MlpEpochLogs = { loss: number; val_loss?: number };

export type MlpHooks = {
  /** Called after each epoch (1-based) for progress reporting; awaited if it returns a promise. */
  onEpoch?(epoch: number, logs: MlpEpochLogs): void | Promise<void>;
};

/** What training did, kept in the model JSON for reports. */
export type MlpHistory = {
  /** Training loss per epoch run (with the L2 term when l2 > 0). */
  loss: number[];
  /** Held-out loss per epoch run, when validation_split > 0. */
  valLoss?: number[];
  /** 1-based epoch whose weights the model holds (the last, unless early stopping restored one). */
  bestEpoch: number;
};

type WeightSpec = { name: string; shape: number[]; dtype: 'float32' | 'int32' | 'bool' };

/** The saved form; fields mirror the other models' JSON header (see model.ts). */
export type MlpJson = {
  kind: 'mlp';
  task: Task;
  version: 1;
  nFeatures: number;
  /** Classification only: distinct training labels, ascending. */
  classes?: number[];
  /** The Keras model topology (`modelTopology` of TensorFlow.js model artifacts). */
  topology: Record<string, unknown>;
  weightSpecs: WeightSpec[];
  /** All weights, concatenated in `weightSpecs` order, little-endian, base64. */
  weightData: string;
  history: MlpHistory;
  /**
   * Regression only: the network learns (y - mean) / std, and `predict` maps back. Targets
   * such as prices in the hundreds of thousands otherwise train badly with Adam's small steps.
   */
  targetScale?: TargetScale;
};

type TargetScale = { mean: number; std: number };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const MlpJsonSchema = z.object({
  kind: z.literal('mlp'),
  task: z.enum(['regression', 'classification']),
  version: z.literal(1),
  nFeatures: z.number().int().min(1),
  classes: z.array(finite).min(2).optional(),
  topology: z.record(z.string(), z.unknown()),
  weightSpecs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.array(z.number().int().min(0)),
        dtype: z.enum(['float32', 'int32', 'bool']),
      }),
    )
    .min(1),
  weightData: z
    .string()
    .refine((s) => s.length % 4 === 0 && BASE64.test(s), 'must be base64 (length a multiple of 4)'),
  history: z.object({
    loss: z.array(finite),
    valLoss: z.array(finite).optional(),
    bestEpoch: z.number().int().min(0),
  }),
  targetScale: z.object({ mean: finite, std: finite.refine((v) => v > 0, 'must be positive') }).optional(),
});

/**
 * Regressor/Classifier from model.ts, with `kind: 'mlp'`. model.ts's `ModelKind` does not
 * list 'mlp' yet, so the interfaces are adopted minus `kind` and `toJSON`; once it does,
 * these are exactly `Regressor` and `Classifier` and the classes can implement those.
 */
type AsMlp<M> = Omit<M, 'kind' | 'toJSON'> & { readonly kind: 'mlp'; toJSON(): MlpJson };

/** What a trained network is saved as, captured once so that `toJSON` can stay synchronous. */
type Saved = { topology: Record<string, unknown>; weightSpecs: WeightSpec[]; weightData: string };

/** State shared by the regressor and the classifier: the network and its saved form. */
abstract class MlpBase {
  readonly kind = 'mlp';
  abstract readonly task: Task;
  private disposed = false;

  constructor(
    protected readonly tf: TfCore,
    protected readonly network: LayersModel,
    readonly nFeatures: number,
    private readonly saved: Saved,
    readonly history: MlpHistory,
  ) {}

  /**
   * Frees the network's tensors. They live in TensorFlow's memory, which the garbage
   * collector does not reclaim, so a process that trains or loads many models must call
   * this; the model cannot predict afterwards.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.network.dispose();
  }

  /**
   * The network's raw output, rows × units, in float32 widened to float64. Runs inside
   * `tidy` and reads back with `dataSync`, so no tensor outlives the call.
   */
  protected forward(X: Matrix, units: number): Float64Array {
    if (this.disposed) throw new StewardError('BAD_REQUEST', 'this MLP model has been disposed');
    checkPredict(X, this.nFeatures);
    if (X.rows === 0) return new Float64Array(0);
    const out = this.tf.tidy(() => {
      const x = this.tf.tensor2d(Float32Array.from(X.data), [X.rows, X.cols], 'float32');
      const y = this.network.predict(x, { batchSize: PREDICT_BATCH }) as Tensor;
      return y.dataSync() as Float32Array;
    });
    if (out.length !== X.rows * units) {
      throw new StewardError('STAGE_FAILED', `MLP produced ${out.length} outputs for ${X.rows} rows`);
    }
    return Float64Array.from(out);
  }

  protected header<T extends Task>(task: T): Omit<MlpJson, 'task' | 'classes'> & { task: T } {
    return {
      kind: 'mlp',
      task,
      version: 1,
      nFeatures: this.nFeatures,
      topology: structuredClone(this.saved.topology),
      weightSpecs: this.saved.weightSpecs.map((s) => ({ ...s, shape: [...s.shape] })),
      weightData: this.saved.weightData,
      history: structuredClone(this.history),
    };
  }
}

/**
 * Rows per forward pass. Large enough that predicting a whole test set is a handful of
 * matrix products (Keras's default of 32 makes it a JS loop), small enough to bound the
 * activations' memory. Any value gives the same per-row results.
 */
const PREDICT_BATCH = 4096;

export class MlpRegressor extends MlpBase implements AsMlp<Regressor> {
  readonly task = 'regression';

  constructor(
    tf: TfCore,
    network: LayersModel,
    nFeatures: number,
    saved: Saved,
    history: MlpHistory,
    private readonly scale: TargetScale = { mean: 0, std: 1 },
  ) {
    super(tf, network, nFeatures, saved, history);
  }

  predict(X: Matrix): Float64Array {
    const { mean, std } = this.scale;
    return this.forward(X, 1).map((v) => v * std + mean);
  }

  toJSON(): MlpJson {
    return { ...this.header('regression'), targetScale: { ...this.scale } };
  }
}

export class MlpClassifier extends MlpBase implements AsMlp<Classifier> {
  readonly task = 'classification';

  constructor(
    tf: TfCore,
    network: LayersModel,
    nFeatures: number,
    saved: Saved,
    history: MlpHistory,
    /** Distinct training labels, ascending; the network's output k is `classes[k]`. */
    readonly classes: Float64Array,
  ) {
    super(tf, network, nFeatures, saved, history);
  }

  /**
   * rows × classes. Binary networks have one sigmoid output p (of `classes[1]`), given as
   * [1 - p, p]; softmax rows are renormalised in float64 so each sums to 1 to double
   * precision rather than float32's.
   */
  predictProba(X: Matrix): Matrix {
    const k = this.classes.length;
    if (k === 2) {
      const p = this.forward(X, 1);
      const out = new Float64Array(X.rows * 2);
      for (let i = 0; i < X.rows; i++) {
        out[2 * i] = 1 - (p[i] ?? 0);
        out[2 * i + 1] = p[i] ?? 0;
      }
      return matrix(X.rows, 2, out);
    }
    const out = this.forward(X, k);
    for (let i = 0; i < X.rows; i++) {
      let sum = 0;
      for (let c = 0; c < k; c++) sum += out[i * k + c] ?? 0;
      for (let c = 0; c < k; c++) out[i * k + c] = (out[i * k + c] ?? 0) / sum;
    }
    return matrix(X.rows, k, out);
  }

  predict(X: Matrix): Float64Array {
    return labelsFromProba(this.predictProba(X), this.classes);
  }

  toJSON(): MlpJson {
    return { ...this.header('classification'), classes: Array.from(this.classes) };
  }
}

/** A fitted or loaded MLP; narrow on `task` for `predictProba`/`classes`. */
export type MlpModel = MlpRegressor | MlpClassifier;

/** `MlpModel.fromJSON(json)`: the loader, next to the type it returns. */
export const MlpModel = {
  /**
   * Revives a model from `toJSON()` output. Asynchronous because TensorFlow's loader is.
   * The shape is checked first and a bad file fails with a BAD_REQUEST naming the field,
   * rather than inside TensorFlow or, worse, predicting from truncated weights.
   */
  async fromJSON(json: unknown): Promise<MlpModel> {
    const parsed = MlpJsonSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      invalidModel(`${issue?.path.join('.') || '(root)'} ${issue?.message ?? 'is malformed'}`);
    }
    const saved = parsed.data;
    const { task, nFeatures, classes } = saved;
    if (task === 'classification' && !classes) invalidModel('a classifier needs classes');
    if (task === 'regression' && classes) invalidModel('a regressor has no classes');
    if (classes && new Set(classes).size !== classes.length) invalidModel('classes must be distinct');

    const bytes = Buffer.from(saved.weightData, 'base64');
    const expected = saved.weightSpecs.reduce(
      (sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * (s.dtype === 'bool' ? 1 : 4),
      0,
    );
    if (bytes.length !== expected) {
      invalidModel(`weightData has ${bytes.length} bytes but weightSpecs describe ${expected}`);
    }

    const { tf, layers } = await loadTf();
    let network: LayersModel;
    try {
      network = await layers.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: saved.topology,
          weightSpecs: saved.weightSpecs,
          weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
        }),
      );
    } catch (error) {
      invalidModel(`TensorFlow could not load the network: ${(error as Error).message}`);
    }
    const units = task === 'regression' || classes?.length === 2 ? 1 : (classes?.length ?? 0);
    const input = network.inputs[0]?.shape;
    const output = network.outputs[0]?.shape;
    if (network.inputs.length !== 1 || input?.length !== 2 || input[1] !== nFeatures) {
      network.dispose();
      invalidModel(`the network's input is ${JSON.stringify(input)}, expected [null, ${nFeatures}]`);
    }
    if (network.outputs.length !== 1 || output?.length !== 2 || output[1] !== units) {
      network.dispose();
      invalidModel(`the network's output is ${JSON.stringify(output)}, expected [null, ${units}]`);
    }
    const kept: Saved = {
      topology: saved.topology,
      weightSpecs: saved.weightSpecs,
      weightData: saved.weightData,
    };
    const history: MlpHistory = { loss: saved.history.loss, bestEpoch: saved.history.bestEpoch };
    if (saved.history.valLoss) history.valLoss = saved.history.valLoss;
    return classes
      ? new MlpClassifier(tf, network, nFeatures, kept, history, Float64Array.from(classes))
      : new MlpRegressor(tf, network, nFeatures, kept, history, saved.targetScale);
  },
};

/** fitMlp's options: the spec's hyperparameters plus the task, which the spec sets at its top. */
export type MlpFitParams = MlpParamsInput & { task: Task };

/**
 * Trains an MLP for regression (y real; linear output, mean squared error) or
 * classification (y any labels, see labels.ts; two classes: one sigmoid output and binary
 * cross-entropy; more: softmax and sparse categorical cross-entropy).
 *
 * `task` is explicit rather than guessed from y, since a 0/1 target can be either.
 * Training runs on the main thread; STACK-NOTES.md has the event-loop cost and the
 * worker_thread alternative for large data.
 */
export async function fitMlp(
  X: Matrix,
  y: ArrayLike<number>,
  params: MlpFitParams,
  hooks: MlpHooks = {},
): Promise<MlpModel> {
  const { task, ...rest } = params;
  if (task !== 'regression' && task !== 'classification') {
    throw new StewardError(
      'BAD_REQUEST',
      `mlp: task must be regression or classification, got ${String(task)}`,
    );
  }
  const parsed = MlpParams.safeParse(rest);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(params)'}: ${i.message}`);
    throw new StewardError('BAD_REQUEST', `mlp: ${problems.join('; ')}`);
  }
  const p = parsed.data;
  checkTraining(X, y);
  if (X.cols < 1) throw new StewardError('BAD_REQUEST', 'mlp: X has no feature columns');

  let classes: Float64Array | null = null;
  let scale: TargetScale = { mean: 0, std: 1 };
  let target: Float32Array;
  if (task === 'classification') {
    const encoded = encodeLabels(y);
    requireClasses(encoded.classes);
    classes = encoded.classes;
    target = Float32Array.from(encoded.codes);
  } else {
    const values = Float64Array.from(y);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length) || 1;
    scale = { mean, std };
    target = Float32Array.from(values, (v) => (v - mean) / std);
  }
  const units = classes && classes.length > 2 ? classes.length : 1;
  const loss =
    classes === null
      ? 'meanSquaredError'
      : classes.length === 2
        ? 'binaryCrossentropy'
        : 'sparseCategoricalCrossentropy';

  // One stream for everything random: kernel seeds first, then the shuffles.
  const rng = createRng(p.seed);
  const { train, valid } = holdout(X.rows, p, classes ? target : null);

  const { tf, layers } = await loadTf();
  const network = layers.sequential({ name: 'mlp' });
  const regularizer = p.l2 > 0 ? layers.regularizers.l2({ l2: p.l2 }) : undefined;
  const sizes = [...p.hidden, units];
  sizes.forEach((size, i) => {
    const last = i === sizes.length - 1;
    network.add(
      layers.layers.dense({
        // Fixed names (not TensorFlow's global counters) keep the JSON identical across runs.
        name: last ? 'output' : `hidden_${i + 1}`,
        units: size,
        activation: last ? (classes === null ? 'linear' : units === 1 ? 'sigmoid' : 'softmax') : p.activation,
        kernelInitializer: layers.initializers.glorotUniform({ seed: rng.uint32() }),
        biasInitializer: 'zeros',
        ...(regularizer ? { kernelRegularizer: regularizer } : {}),
        ...(i === 0 ? { inputShape: [X.cols] } : {}),
      }),
    );
  });
  const optimizer = tf.train.adam(p.learning_rate);
  network.compile({ optimizer, loss });

  const owned: Tensor[] = [];
  let best: Tensor[] | null = null;
  try {
    const xTrain = keep(owned, rowsTensor(tf, X, train));
    const yTrain = keep(owned, tf.tensor2d(pick(target, train), [train.length, 1], 'float32'));
    const validationData: [Tensor2D, Tensor2D] | undefined = valid
      ? [
          keep(owned, rowsTensor(tf, X, valid)),
          keep(owned, tf.tensor2d(pick(target, valid), [valid.length, 1], 'float32')),
        ]
      : undefined;

    const history: MlpHistory = { loss: [], bestEpoch: 0 };
    if (validationData) history.valLoss = [];
    const shuffler = rng.fork();
    let bestLoss = Number.POSITIVE_INFINITY;
    for (let epoch = 1; epoch <= p.epochs; epoch++) {
      const order = tf.tensor1d(shuffler.permutation(train.length), 'int32');
      const xs = tf.gather(xTrain, order);
      const ys = tf.gather(yTrain, order);
      let result: Awaited<ReturnType<LayersModel['fit']>>;
      try {
        result = await network.fit(xs, ys, {
          batchSize: p.batch_size,
          epochs: 1,
          shuffle: false,
          verbose: 0,
          ...(validationData ? { validationData } : {}),
        });
      } finally {
        tf.dispose([order, xs, ys]);
      }
      const logs: MlpEpochLogs = { loss: scalar(result.history.loss) };
      if (validationData) logs.val_loss = scalar(result.history.val_loss);
      if (!Number.isFinite(logs.loss) || (logs.val_loss !== undefined && !Number.isFinite(logs.val_loss))) {
        throw new StewardError(
          'BAD_REQUEST',
          `mlp: training diverged at epoch ${epoch} (loss ${logs.loss}): lower learning_rate` +
            (classes === null ? ' or scale the target' : ''),
        );
      }
      history.loss.push(logs.loss);
      if (logs.val_loss !== undefined) history.valLoss?.push(logs.val_loss);
      await hooks.onEpoch?.(epoch, logs);

      const monitored = logs.val_loss ?? logs.loss;
      if (monitored < bestLoss) {
        bestLoss = monitored;
        history.bestEpoch = epoch;
        if (p.early_stopping_patience > 0) {
          tf.dispose(best ?? []);
          best = network.getWeights().map((w) => w.clone());
        }
      } else if (p.early_stopping_patience > 0 && epoch - history.bestEpoch >= p.early_stopping_patience) {
        break;
      }
    }
    if (p.early_stopping_patience > 0 && best) network.setWeights(best);
    else history.bestEpoch = history.loss.length;

    const saved = await save(tf, network);
    return classes
      ? new MlpClassifier(tf, network, X.cols, saved, history, classes)
      : new MlpRegressor(tf, network, X.cols, saved, history, scale);
  } catch (error) {
    network.dispose();
    throw error;
  } finally {
    tf.dispose(owned);
    tf.dispose(best ?? []);
    optimizer.dispose();
  }
}

/** Training and (when validation_split > 0) held-out rows; stratified for classification. */
function holdout(
  n: number,
  p: MlpParams,
  codes: Float32Array | null,
): { train: Int32Array; valid: Int32Array | null } {
  if (p.validation_split === 0) return { train: Int32Array.from({ length: n }, (_, i) => i), valid: null };
  const split = holdoutSplit(n, {
    testFraction: p.validation_split,
    seed: p.seed,
    ...(codes ? { stratify: codes } : {}),
  });
  return { train: split.train, valid: split.test };
}

function keep<T extends Tensor>(owned: Tensor[], t: T): T {
  owned.push(t);
  return t;
}

/** The given rows of X as a float32 tensor. */
function rowsTensor(tf: TfCore, X: Matrix, rows: Int32Array): Tensor2D {
  const d = X.cols;
  const out = new Float32Array(rows.length * d);
  rows.forEach((r, k) => {
    out.set(X.data.subarray(r * d, (r + 1) * d), k * d);
  });
  return tf.tensor2d(out, [rows.length, d], 'float32');
}

function pick(values: Float32Array, rows: Int32Array): Float32Array {
  return Float32Array.from(rows, (r) => values[r] ?? 0);
}

/** A one-epoch history entry as a number (TensorFlow may report a scalar tensor). */
function scalar(values: (number | Tensor)[] | undefined): number {
  const v = values?.[0];
  if (v === undefined) return Number.NaN;
  return typeof v === 'number' ? v : (v.dataSync()[0] ?? Number.NaN);
}

/**
 * The network's topology, weight manifest and weights, through an in-memory save handler
 * (there is no file handler without tfjs-node). Done once after training, since saving is
 * asynchronous and `toJSON` must not be.
 */
async function save(tf: TfCore, network: LayersModel): Promise<Saved> {
  let artifacts: io.ModelArtifacts | null = null;
  await network.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const a = artifacts as io.ModelArtifacts | null;
  const topology = a?.modelTopology;
  if (!a || !topology || topology instanceof ArrayBuffer || !a.weightSpecs || !a.weightData) {
    throw new StewardError('STAGE_FAILED', 'mlp: TensorFlow did not return the model artifacts');
  }
  const weightSpecs = a.weightSpecs.map((s): WeightSpec => {
    if (s.dtype !== 'float32' && s.dtype !== 'int32' && s.dtype !== 'bool') {
      throw new StewardError('STAGE_FAILED', `mlp: unexpected weight dtype ${s.dtype} for ${s.name}`);
    }
    return { name: s.name, shape: [...s.shape], dtype: s.dtype };
  });
  const data = tf.io.CompositeArrayBuffer.join(a.weightData);
  return {
    topology: topology as Record<string, unknown>,
    weightSpecs,
    weightData: Buffer.from(data).toString('base64'),
  };
}
