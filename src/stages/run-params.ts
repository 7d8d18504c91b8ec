import { z } from 'zod';
import { StewardError } from '../errors.ts';
import { closest } from './catalog.ts';
import { type PipelineSpec, SYNTHETIC_PARAMS } from './spec.ts';
import { MODEL_PARAMS } from './train/model-params.ts';

/**
 * Run params (`steward run churn max_iter=300`, `/mlops run churn epochs=30`, the REST
 * API's `params`) arrive as strings. They are read here, with the types and bounds of the
 * spec fields they override, when the run is requested: a refused request starts nothing.
 *
 * A run takes:
 * - a train run: the model's params (`MODEL_PARAMS` of `model.type`, overriding
 *   `model.params`) and, for a synthetic source, `rows`, `seed` and `drift`. `seed` sets
 *   both the generator's and the model's seed when both take one;
 * - a deploy or rollback run: `version` (`v3` or `3`), the model version to put in production.
 *
 * Values are read as the field's type: whole numbers must be whole (`max_iter=abc` and
 * `max_iter=1.5` are refused), booleans are `true`/`false`, and a list (the MLP's
 * `hidden`) is written `64,32` or `[64,32]` (the first needs no quoting in a shell).
 * Names are exact; an unknown one is refused with the closest known name, if any.
 */

/** What a run's params say, read and checked. */
export type RunParams = {
  /** The model's params: `model.params` with the run's overrides, checked, with defaults. */
  model: Record<string, unknown>;
  /** The synthetic source's options the run sets. */
  source: { rows?: number; seed?: number; drift?: number };
  /** The model version a deploy or rollback run names. */
  version?: number;
};

/** Model versions are int4 in the database. */
const MAX_VERSION = 2 ** 31 - 1;

/**
 * Reads and checks a run's params against its spec, when the run is requested. Throws
 * BAD_REQUEST naming each bad param and the rule it breaks, e.g.
 * `n_estimators: at most 2000 (got 100000000)`.
 */
export function parseRunParams(
  spec: PipelineSpec,
  kind: string,
  params: Record<string, string>,
  options: {
    /**
     * Names of run params the stages read beyond Steward's own (a custom stages module's,
     * see `runParams` in test/fixtures/test-stages.ts); they are kept as strings. @default none
     */
    extra?: (name: string) => boolean;
  } = {},
): RunParams {
  return read(spec, kind, params, { ...options, parts: 'all' });
}

/**
 * The model params a train stage fits with: `model.params` and the run's overrides, checked
 * again (a spec stored before a bound existed, or a row written by hand, would otherwise
 * train with whatever it says). Params for other stages are not looked at.
 */
export function modelParamsOf(spec: PipelineSpec, params: Record<string, string>): Record<string, unknown> {
  return read(spec, 'train', params, { parts: 'model' }).model;
}

/** The synthetic source's options the run's params set, checked again (see modelParamsOf). */
export function sourceParamsOf(spec: PipelineSpec, params: Record<string, string>): RunParams['source'] {
  return read(spec, 'train', params, { parts: 'source' }).source;
}

function read(
  spec: PipelineSpec,
  kind: string,
  params: Record<string, string>,
  options: { extra?: (name: string) => boolean; parts: 'all' | 'model' | 'source' },
): RunParams {
  const problems: string[] = [];
  const type = spec.model.type;
  const { parts } = options;
  const modelShape: Record<string, z.ZodType> = parts === 'source' ? {} : MODEL_PARAMS[type].shape;
  const sourceShape: Record<string, z.ZodType> =
    parts !== 'model' && spec.source.type === 'synthetic' ? SYNTHETIC_PARAMS : {};
  const overrides: Record<string, unknown> = {};
  const source: RunParams['source'] = {};
  let version: number | undefined;
  const known =
    kind === 'train' ? [...new Set([...Object.keys(modelShape), ...Object.keys(sourceShape)])] : ['version'];

  for (const [key, raw] of Object.entries(params)) {
    const modelField = modelShape[key];
    const sourceField = sourceShape[key];
    if (kind !== 'train' && key === 'version') {
      const digits = /^v?(\d+)$/.exec(raw.trim())?.[1];
      const n = Number(digits);
      if (!digits || n < 1) problems.push(`version: expected a model version such as v3, got \`${raw}\``);
      else if (n > MAX_VERSION) problems.push(`version: at most ${MAX_VERSION} (got ${digits})`);
      else version = n;
      continue;
    }
    if (kind === 'train' && (modelField || sourceField)) {
      for (const [field, into] of [
        [modelField, overrides],
        [sourceField, source],
      ] as const) {
        if (!field) continue;
        const value = readAs(field, raw);
        if ('expected' in value) {
          problems.push(`${key}: expected ${alternatives(value.expected)}, got \`${raw}\``);
          break;
        }
        const checked = field.safeParse(value.value);
        if (!checked.success) {
          problems.push(...checked.error.issues.map((i) => `${[key, ...i.path].join('.')}: ${i.message}`));
          break;
        }
        (into as Record<string, unknown>)[key] = checked.data;
      }
      continue;
    }
    // Stages read only their own part; the names were checked when the run was requested.
    if (parts !== 'all' || options.extra?.(key)) continue;
    problems.push(unknownParam(spec, kind, key, known));
  }

  if (parts === 'all' && kind !== 'train' && version === undefined && !('version' in params)) {
    problems.push(`version: a ${kind} run needs the model version to put in production, e.g. version=v3`);
  }
  let model: Record<string, unknown> = {};
  if (parts !== 'source' && problems.length === 0) {
    const merged = MODEL_PARAMS[type].safeParse({ ...spec.model.params, ...overrides });
    if (merged.success) model = merged.data;
    else {
      for (const issue of merged.error.issues) {
        const [first] = issue.path;
        const path = issue.path.join('.');
        // A run param is named as it was written; a problem of the spec's own by its path there.
        const named = first !== undefined && String(first) in overrides ? path : `model.params.${path}`;
        problems.push(`${named}: ${issue.message}`);
      }
    }
  }
  if (problems.length === 1) throw new StewardError('BAD_REQUEST', problems[0] as string);
  if (problems.length > 1) {
    throw new StewardError(
      'BAD_REQUEST',
      `${problems.length} problems with the run params:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
  }
  return { model, source, ...(version === undefined ? {} : { version }) };
}

function unknownParam(spec: PipelineSpec, kind: string, key: string, known: string[]): string {
  if (kind === 'train' && key === 'version') {
    return 'version: only deploy and rollback runs take a version; a train run makes a new one';
  }
  if (kind !== 'train') return `${key}: a ${kind} run trains nothing; it takes only version`;
  const suggestion = closest(key, known);
  if (suggestion) return `${key}: not a parameter of ${spec.name}; did you mean \`${suggestion}\`?`;
  const what = `${spec.name} (${spec.model.type}${spec.source.type === 'synthetic' ? ', synthetic source' : ''})`;
  return `${key}: not a parameter of ${what}; it takes ${known.join(', ')}`;
}

/** "a, b or c". */
function alternatives(options: string[]): string {
  const unique = [...new Set(options)];
  return unique.length <= 1 ? (unique[0] ?? '') : `${unique.slice(0, -1).join(', ')} or ${unique.at(-1)}`;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Reads the text of a run param as the value `schema` takes; bounds are left to the
 * schema. `expected` lists what would have been read, for the message.
 */
function readAs(schema: z.ZodType, raw: string): { value: unknown } | { expected: string[] } {
  const text = raw.trim();
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) {
    return readAs(schema.unwrap() as z.ZodType, raw);
  }
  if (schema instanceof z.ZodNumber) {
    const n = NUMBER.test(text) ? Number(text) : Number.NaN;
    if (schema.isInt) return Number.isSafeInteger(n) ? { value: n } : { expected: ['a whole number'] };
    return Number.isFinite(n) ? { value: n } : { expected: ['a number'] };
  }
  if (schema instanceof z.ZodBoolean) {
    return text === 'true' || text === 'false' ? { value: text === 'true' } : { expected: ['true', 'false'] };
  }
  if (schema instanceof z.ZodEnum) {
    const options = schema.options.map(String);
    return options.includes(text) ? { value: text } : { expected: options };
  }
  if (schema instanceof z.ZodLiteral) {
    const values = [...schema.values];
    const match = values.find((v) => String(v) === text);
    return match !== undefined ? { value: match } : { expected: values.map(String) };
  }
  if (schema instanceof z.ZodUnion) {
    const expected: string[] = [];
    for (const option of schema.options as z.ZodType[]) {
      const read = readAs(option, raw);
      if ('value' in read) return read;
      expected.push(...read.expected);
    }
    return { expected };
  }
  if (schema instanceof z.ZodArray) {
    const list = /^\[(.*)\]$/s.exec(text)?.[1] ?? text;
    const parts = list.trim() === '' ? [] : list.split(',');
    const values: unknown[] = [];
    for (const part of parts) {
      const read = readAs(schema.element as z.ZodType, part);
      if ('expected' in read) {
        const each = read.expected.map((e) => `${e.replace(/^an? /, '')}s`).join(' or ');
        return { expected: [`a list of ${each} such as 64,32 or [64,32]`] };
      }
      values.push(read.value);
    }
    return text === '' ? { expected: ['a list such as 64,32 or [64,32]'] } : { value: values };
  }
  if (schema instanceof z.ZodString) return { value: raw };
  return { expected: ['a value that can be written as text'] };
}
