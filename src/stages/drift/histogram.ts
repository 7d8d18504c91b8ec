import type { CategoryCounts } from './categories.ts';
import type { ColumnDrift } from './types.ts';

/** How many categories a histogram names; the rest are summed into one bar. */
export const HISTOGRAM_CATEGORIES = 20;
export const HISTOGRAM_OTHER = 'other';

type Histogram = ColumnDrift['histogram'];

/**
 * Labels of the PSI bins: "(-∞, c₀)", "[c₀, c₁)", …, "[cₖ, ∞)". Each cut is written with
 * the fewest significant digits (at least 3) that keep all cuts apart, so labels stay short
 * but never merge two bins.
 */
export function binLabels(cuts: readonly number[]): string[] {
  let digits = 3;
  let text = cuts.map((cut) => shortNumber(cut, digits));
  while (digits < 17 && new Set(text).size < cuts.length) {
    digits++;
    text = cuts.map((cut) => shortNumber(cut, digits));
  }
  if (text.length === 0) return ['(-∞, ∞)'];
  const labels = [`(-∞, ${text[0]})`];
  for (let i = 1; i < text.length; i++) labels.push(`[${text[i - 1]}, ${text[i]})`);
  labels.push(`[${text.at(-1)}, ∞)`);
  return labels;
}

function shortNumber(x: number, digits: number): string {
  return String(Number(x.toPrecision(digits)));
}

/** Shares per bin of aligned counts; all 0 for an empty side. */
export function binHistogram(
  labels: string[],
  reference: ArrayLike<number>,
  current: ArrayLike<number>,
): Histogram {
  return { labels, reference: shares(reference), current: shares(current) };
}

/**
 * Category shares, the largest reference share first (then current share, then label), the
 * first `HISTOGRAM_CATEGORIES` by name and the rest summed as "other".
 */
export function categoryHistogram(counts: CategoryCounts): Histogram {
  const referenceShares = shares(counts.reference);
  const currentShares = shares(counts.current);
  const order = counts.labels.map((_, i) => i);
  order.sort(
    (i, j) =>
      (referenceShares[j] as number) - (referenceShares[i] as number) ||
      (currentShares[j] as number) - (currentShares[i] as number) ||
      ((counts.labels[i] as string) < (counts.labels[j] as string) ? -1 : 1),
  );
  const named = order.length > HISTOGRAM_CATEGORIES ? order.slice(0, HISTOGRAM_CATEGORIES) : order;
  const histogram: Histogram = {
    labels: named.map((i) => counts.labels[i] as string),
    reference: named.map((i) => referenceShares[i] as number),
    current: named.map((i) => currentShares[i] as number),
  };
  if (named.length < order.length) {
    const rest = order.slice(HISTOGRAM_CATEGORIES);
    // A real category called "other" keeps its name; the summed bar then gets parentheses.
    histogram.labels.push(
      histogram.labels.includes(HISTOGRAM_OTHER) ? `(${HISTOGRAM_OTHER})` : HISTOGRAM_OTHER,
    );
    histogram.reference.push(rest.reduce((sum, i) => sum + (referenceShares[i] as number), 0));
    histogram.current.push(rest.reduce((sum, i) => sum + (currentShares[i] as number), 0));
  }
  return histogram;
}

function shares(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  return Array.from(counts, (count) => (total > 0 ? count / total : 0));
}
