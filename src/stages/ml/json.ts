import { StewardError } from '../../errors.ts';
import type { ModelJsonHeader, ModelKind, Task } from './model.ts';

/**
 * Readers for saved models. A model's JSON may come back from a database row or a file a
 * person edited, so `fromJSON` checks shapes rather than trusting a cast: a bad file
 * fails with a message naming the field instead of predicting garbage.
 */
function bad(what: string): never {
  throw new StewardError('BAD_REQUEST', `saved model is not valid: ${what}`);
}

function objectOf(json: unknown): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) bad('expected an object');
  return json as Record<string, unknown>;
}

/** Checks kind, task and version, and returns the header. */
export function readHeader<K extends ModelKind, T extends Task>(
  json: unknown,
  kind: K,
  task: T,
): ModelJsonHeader<K, T> {
  const o = objectOf(json);
  if (o.kind !== kind) bad(`kind is ${JSON.stringify(o.kind)}, expected "${kind}"`);
  if (o.task !== task) bad(`task is ${JSON.stringify(o.task)}, expected "${task}"`);
  if (o.version !== 1) bad(`version ${JSON.stringify(o.version)} is not supported`);
  const nFeatures = readInt(o, 'nFeatures');
  if (nFeatures < 0) bad('nFeatures must be ≥ 0');
  return { kind, task, version: 1, nFeatures };
}

export function readNumber(json: unknown, key: string): number {
  const value = objectOf(json)[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) bad(`${key} must be a finite number`);
  return value;
}

export function readInt(json: unknown, key: string): number {
  const value = readNumber(json, key);
  if (!Number.isInteger(value)) bad(`${key} must be an integer`);
  return value;
}

export function readString(json: unknown, key: string): string {
  const value = objectOf(json)[key];
  if (typeof value !== 'string') bad(`${key} must be a string`);
  return value;
}

export function readBoolean(json: unknown, key: string): boolean {
  const value = objectOf(json)[key];
  if (typeof value !== 'boolean') bad(`${key} must be true or false`);
  return value;
}

export function readArray(json: unknown, key: string): unknown[] {
  const value = objectOf(json)[key];
  if (!Array.isArray(value)) bad(`${key} must be an array`);
  return value;
}

/** An array of finite numbers, as a Float64Array; `length` checks the size when given. */
export function readNumbers(json: unknown, key: string, length?: number): Float64Array {
  const values = readArray(json, key);
  if (length !== undefined && values.length !== length) bad(`${key} must have ${length} values`);
  const out = new Float64Array(values.length);
  values.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(`${key}[${i}] must be a finite number`);
    out[i] = v;
  });
  return out;
}

/** An array of integers, as an Int32Array. */
export function readInts(json: unknown, key: string, length?: number): Int32Array {
  const values = readNumbers(json, key, length);
  const out = new Int32Array(values.length);
  values.forEach((v, i) => {
    if (!Number.isInteger(v) || Math.abs(v) > 2147483647) bad(`${key}[${i}] must be an integer`);
    out[i] = v;
  });
  return out;
}

export { bad as invalidModel };

/**
 * Replaces -0 by 0 in place. JSON writes -0 as 0, so a model keeps its parameters in the
 * form JSON preserves; otherwise a prediction of exactly zero could differ in sign after
 * a round trip. Models call this on their parameter arrays when they are built.
 */
export function canonical<T extends Float64Array>(values: T): T {
  for (let i = 0; i < values.length; i++) if (values[i] === 0) values[i] = 0;
  return values;
}
