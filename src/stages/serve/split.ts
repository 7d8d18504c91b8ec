import type { FeatureRow } from '../features/input.ts';

/**
 * A number in [0, 1) from a string, the same in every process and release: FNV-1a over
 * the UTF-16 code units, then murmur3's finaliser so that keys differing in one
 * character (C000001, C000002 …) spread evenly.
 */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x1_0000_0000;
}

/** Request headers as Node gives them (lower-cased names). */
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * The entity key a canary splits on: the row's field named by `canaryKey`, or the
 * request header for `header:<name>`; undefined (split at random) when the request has
 * none or `canaryKey` is null.
 */
export function entityKeyOf(canaryKey: string | null, row: FeatureRow, headers: Headers): string | undefined {
  if (canaryKey === null) return undefined;
  if (canaryKey.startsWith('header:')) {
    const value = headers[canaryKey.slice('header:'.length).toLowerCase()];
    const first = Array.isArray(value) ? value[0] : value;
    return first === undefined || first === '' ? undefined : first;
  }
  const value = typeof row === 'object' && row !== null ? row[canaryKey] : undefined;
  if (value === undefined || value === null || value === '') return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Whether a row goes to the canary. A key always lands in the same bucket of 0–100 (per
 * pipeline), so the same customer always meets the same version, and raising the
 * percentage only moves keys from production to the canary, never back. Without a key,
 * `random()` decides.
 */
export function isCanary(
  pipeline: string,
  key: string | undefined,
  percent: number,
  random: () => number = Math.random,
): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  const u = key === undefined ? random() : unitHash(`canary:${pipeline}:${key}`);
  return u * 100 < percent;
}

/** Whether a request is logged at `rate`, decided by its id (all its rows and roles alike). */
export function isSampled(requestId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return unitHash(`sample:${requestId}`) < rate;
}
