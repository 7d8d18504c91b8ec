/**
 * Counts per category on both sides of a comparison, aligned by index over the union of the
 * categories either side has (missing values are not a category). Labels are in ascending
 * order: numbers numerically, strings by code unit, booleans false before true, which is the
 * order Evidently's z-test sorts its two values in.
 */
export type CategoryCounts = { labels: string[]; reference: Float64Array; current: Float64Array };

export function countStrings(
  reference: readonly (string | null)[],
  current: readonly (string | null)[],
): CategoryCounts {
  const index = new Map<string, number>();
  const counts: [number, number][] = [];
  const add = (values: readonly (string | null)[], side: 0 | 1) => {
    for (const value of values) {
      if (value === null) continue;
      let k = index.get(value);
      if (k === undefined) {
        k = counts.length;
        index.set(value, k);
        counts.push([0, 0]);
      }
      (counts[k] as [number, number])[side]++;
    }
  };
  add(reference, 0);
  add(current, 1);
  const labels = [...index.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: CategoryCounts = {
    labels,
    reference: new Float64Array(labels.length),
    current: new Float64Array(labels.length),
  };
  labels.forEach((label, i) => {
    const [r, c] = counts[index.get(label) as number] as [number, number];
    out.reference[i] = r;
    out.current[i] = c;
  });
  return out;
}

/** Boolean columns (1 / 0 / NaN) as the categories "false" and "true", where present. */
export function countBooleans(reference: Float64Array, current: Float64Array): CategoryCounts {
  const tally = (values: Float64Array) => {
    let t = 0;
    let f = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === 1) t++;
      else if (values[i] === 0) f++;
    }
    return [f, t];
  };
  const [rf, rt] = tally(reference) as [number, number];
  const [cf, ct] = tally(current) as [number, number];
  const present = (
    [
      ['false', rf, cf],
      ['true', rt, ct],
    ] as const
  ).filter(([, r, c]) => r + c > 0);
  return {
    labels: present.map(([label]) => label),
    reference: Float64Array.from(present, ([, r]) => r),
    current: Float64Array.from(present, ([, , c]) => c),
  };
}

/** The distinct values of two sorted numeric samples as categories, ascending. */
export function countSortedValues(a: Float64Array, b: Float64Array): CategoryCounts {
  const labels: string[] = [];
  const r: number[] = [];
  const c: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const value = j >= b.length || (i < a.length && (a[i] as number) <= (b[j] as number)) ? a[i] : b[j];
    const i0 = i;
    const j0 = j;
    while (i < a.length && a[i] === value) i++;
    while (j < b.length && b[j] === value) j++;
    labels.push(String(value));
    r.push(i - i0);
    c.push(j - j0);
  }
  return { labels, reference: Float64Array.from(r), current: Float64Array.from(c) };
}
