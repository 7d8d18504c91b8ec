import { z } from 'zod';
import { StewardError } from '../../errors.ts';
import type { FeatureStep } from '../features/transform-schema.ts';
import type { LoadedModel } from './loaded-model.ts';
import type { Serving } from './model-cache.ts';
import type { ClassPrediction } from './predict.ts';
import type { PredictResult } from './serving.ts';

/**
 * The Open Inference Protocol (KServe v2; Triton, MLServer, OpenVINO) over Steward's
 * tabular models. Inputs are one tensor per feature column, named by the feature, shape
 * [N] (or [N, 1]), as MLServer's pandas codec sends a data frame; a single [N, F] tensor
 * whose columns are the features in metadata order is taken too. Outputs are `predict`
 * ([N]: class labels as BYTES, or FP64 numbers) and, for classifiers, `predict_proba`
 * ([N, K] FP64, the labels in the output's `parameters.labels`).
 */

export const PLATFORM = 'steward';

const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

const Parameters = z.record(z.string(), z.unknown());
const Tensor = z.object({
  name: z.string({ error: 'each input needs a name' }).min(1),
  shape: z.array(z.number().int().min(0), { error: 'each input needs a shape, e.g. [N]' }),
  datatype: z.enum(DATATYPES, { error: `datatype must be one of ${DATATYPES.join(', ')}` }),
  data: z.array(z.unknown(), { error: 'each input needs data (an array, flat or nested)' }),
  parameters: Parameters.optional(),
});
export const InferRequest = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(Tensor, { error: 'inputs must be an array of tensors' }).min(1, 'inputs is empty'),
  outputs: z.array(z.object({ name: z.string(), parameters: Parameters.optional() })).optional(),
});
export type InferRequest = z.infer<typeof InferRequest>;
type Tensor = z.infer<typeof Tensor>;

const bad = (message: string): never => {
  throw new StewardError('BAD_REQUEST', message);
};

const datatypeOf = (step: FeatureStep) =>
  step.kind === 'categorical' ? 'BYTES' : step.kind === 'boolean' ? 'BOOL' : 'FP64';

/** The model's metadata: one input per feature column, the `predict` (and `predict_proba`) outputs. */
export function modelMetadata(serving: Serving, loaded: LoadedModel) {
  const versions = [serving.production.version, ...(serving.candidate ? [serving.candidate.version] : [])];
  if (!versions.includes(loaded.version)) versions.push(loaded.version);
  const n = loaded.labels.length;
  return {
    name: serving.pipeline,
    versions: versions.map(String),
    platform: PLATFORM,
    inputs: loaded.transform.inputs.map((step) => ({
      name: step.name,
      datatype: datatypeOf(step),
      shape: [-1],
    })),
    outputs: [
      { name: 'predict', datatype: loaded.task === 'classification' ? 'BYTES' : 'FP64', shape: [-1] },
      ...(loaded.task === 'classification'
        ? [{ name: 'predict_proba', datatype: 'FP64', shape: [-1, n], parameters: { labels: loaded.labels } }]
        : []),
    ],
  };
}

function flatten(data: readonly unknown[]): unknown[] {
  return data.some(Array.isArray) ? (data.flat(Number.POSITIVE_INFINITY) as unknown[]) : [...data];
}

function checkValues(tensor: Tensor, values: readonly unknown[]): void {
  const { datatype, name } = tensor;
  const wrong = values.find((v) => {
    if (v === null) return false;
    if (datatype === 'BYTES') return typeof v !== 'string';
    if (datatype === 'BOOL') return typeof v !== 'boolean';
    return typeof v !== 'number';
  });
  if (wrong !== undefined) {
    const expected = datatype === 'BYTES' ? 'strings' : datatype === 'BOOL' ? 'true or false' : 'numbers';
    bad(`input "${name}" is ${datatype}, so its data must be ${expected}; found ${JSON.stringify(wrong)}`);
  }
}

/** The rows an infer request's tensors describe, as `{feature: value}` objects. */
export function rowsOfInputs(request: InferRequest, loaded: LoadedModel): Record<string, unknown>[] {
  const features = loaded.transform.inputs.map((step) => step.name);
  const known = new Set(features);
  const { inputs } = request;
  const first = inputs[0] as Tensor;
  // One [N, F] tensor holding every feature, in metadata order (KServe's sklearn examples).
  if (inputs.length === 1 && !known.has(first.name) && first.shape.length === 2) {
    const [n = 0, width = 0] = first.shape;
    if (width !== features.length) {
      bad(
        `input "${first.name}" has ${width} columns but ${loaded.pipeline} takes ${features.length}: ${features.join(', ')} (or send one input per feature)`,
      );
    }
    const values = flatten(first.data);
    if (values.length !== n * width) {
      bad(`input "${first.name}" has shape [${n}, ${width}] but ${values.length} values`);
    }
    return Array.from({ length: n }, (_, i) =>
      Object.fromEntries(features.map((name, j) => [name, values[i * width + j] ?? null])),
    );
  }
  let n: number | undefined;
  const columns = new Map<string, unknown[]>();
  for (const tensor of inputs) {
    const { name, shape } = tensor;
    if (columns.has(name)) bad(`input "${name}" is given twice`);
    if (shape.length === 0 || shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      bad(`input "${name}" has shape [${shape.join(', ')}]; a feature column has shape [N] or [N, 1]`);
    }
    const rows = shape[0] as number;
    if (n !== undefined && rows !== n) bad(`input "${name}" has ${rows} rows but an earlier input has ${n}`);
    n = rows;
    const values = flatten(tensor.data);
    if (values.length !== rows)
      bad(`input "${name}" has shape [${shape.join(', ')}] but ${values.length} values`);
    checkValues(tensor, values);
    columns.set(name, values);
  }
  const missing = features.filter((name) => !columns.has(name));
  if (missing.length > 0) {
    bad(
      `${loaded.pipeline} needs an input for each feature; missing: ${missing.join(', ')} (GET /v2/models/${loaded.pipeline} lists them)`,
    );
  }
  return Array.from({ length: n ?? 0 }, (_, i) => {
    const row: Record<string, unknown> = {};
    for (const [name, values] of columns) row[name] = values[i];
    return row;
  });
}

const OUTPUTS = ['predict', 'predict_proba'] as const;

/**
 * The infer response for a scored request. Any failed row fails the request (a tensor
 * has no place for one row's error), naming each bad row and field.
 */
export function inferResponse(request: InferRequest, result: PredictResult) {
  const failed = result.rows.flatMap((r) => (r.outcome.ok ? [] : [r.outcome.error.message]));
  if (failed.length > 0) {
    const shown = failed.slice(0, 10).join('; ');
    bad(
      `${failed.length} of ${result.rows.length} rows cannot be scored: ${shown}${failed.length > 10 ? '; …' : ''}`,
    );
  }
  const classification = result.rows[0]?.model.task === 'classification';
  const available = classification ? OUTPUTS : (['predict'] as const);
  const wanted = request.outputs?.map((o) => o.name) ?? [...available];
  const unknown = wanted.find((name) => !(available as readonly string[]).includes(name));
  if (unknown !== undefined) bad(`there is no output "${unknown}"; the outputs are ${available.join(', ')}`);
  const n = result.rows.length;
  const outputs = wanted.map((name) => {
    if (name === 'predict') {
      return classification
        ? {
            name,
            datatype: 'BYTES',
            shape: [n],
            data: result.rows.map((r) =>
              r.outcome.ok ? (r.outcome.prediction as ClassPrediction).label : null,
            ),
          }
        : {
            name,
            datatype: 'FP64',
            shape: [n],
            data: result.rows.map((r) => (r.outcome.ok ? (r.outcome.prediction as number) : null)),
          };
    }
    // Rows from two versions (a canary) share one column order: the union of their labels.
    const labels: string[] = [];
    for (const { model } of result.rows)
      for (const l of model.labels) if (!labels.includes(l)) labels.push(l);
    const data: number[] = [];
    for (const { outcome, model } of result.rows) {
      const p = outcome.ok ? (outcome.prediction as ClassPrediction).probabilities : [];
      for (const label of labels) data.push(p[model.labels.indexOf(label)] ?? 0);
    }
    return { name, datatype: 'FP64', shape: [n, labels.length], data, parameters: { labels } };
  });
  const versions = result.rows.map((r) => r.model.version);
  return {
    model_name: result.model,
    model_version: String(result.answeredBy),
    id: request.id ?? result.requestId,
    parameters: {
      request_id: result.requestId,
      ...(new Set(versions).size > 1 ? { versions: versions.map(String) } : {}),
    },
    outputs,
  };
}
