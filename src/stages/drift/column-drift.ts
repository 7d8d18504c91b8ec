import { type CategoryCounts, countSortedValues } from './categories.ts';
import {
  type ChiSquareGoFResult,
  type ChiSquareResult,
  chi2Contingency,
  chiSquareGoF,
  UNSEEN_SHARE,
} from './chisquare.ts';
import { chooseTest, FEW_VALUES, type TestChoice } from './choose-test.ts';
import { binHistogram, binLabels, categoryHistogram } from './histogram.ts';
import { jensenShannon } from './jensen-shannon.ts';
import { type KsResult, ksFromStatistic, ksSweep } from './ks.ts';
import { psiFromCounts, quantileCuts, sortedBinCounts } from './psi.ts';
import { distinctUnion, sortedFinite } from './sample.ts';
import { type ColumnDrift, type DriftTest, P_VALUE_TESTS } from './types.ts';
import { type WassersteinResult, wasserstein } from './wasserstein.ts';
import { type ZTestResult, zTestProportions } from './z-test.ts';

/** What every column comparison needs from the options, resolved to numbers. */
export type ColumnSettings = {
  threshold: number;
  pValue: number;
  psiBins: number;
  minRows: number;
  /** The test `options.tests` names for this column, if any. */
  test?: DriftTest;
};

type Computed = {
  ks?: KsResult;
  wasserstein?: WassersteinResult;
  psi: number;
  chiSquare: ChiSquareGoFResult;
  contingency: ChiSquareResult;
  jensenShannon: number;
  z?: ZTestResult;
};

/**
 * A numeric column: sorted once, and the sorted samples feed KS, Wasserstein and the PSI
 * bins. With more than `FEW_VALUES` distinct values the categorical statistics (chi-square,
 * contingency, Jensen–Shannon) use the PSI bins as categories; with fewer, the values.
 */
export function numericColumnDrift(
  column: string,
  reference: Float64Array,
  current: Float64Array,
  settings: ColumnSettings,
): ColumnDrift {
  const a = sortedFinite(reference);
  const b = sortedFinite(current);
  // One sweep gives both KS's D and the distinct values the test choice needs.
  const sweep = a.length > 0 && b.length > 0 ? ksSweep(a, b) : undefined;
  const distinct = sweep?.distinct ?? distinctUnion(a, b);
  const choice = resolveTest('numeric', a.length, distinct, settings.test);
  const few = distinct <= FEW_VALUES;
  const cuts = a.length > 0 ? quantileCuts(a, settings.psiBins) : [];
  const referenceBins = sortedBinCounts(a, cuts);
  const currentBins = sortedBinCounts(b, cuts);
  const labels = binLabels(cuts);
  const categories: CategoryCounts = few
    ? countSortedValues(a, b)
    : { labels, reference: referenceBins, current: currentBins };
  const histogram =
    few || a.length === 0 ? categoryHistogram(categories) : binHistogram(labels, referenceBins, currentBins);
  const base = { column, kind: 'numeric' as const, referenceCount: a.length, currentCount: b.length };
  // minRows is at least 1, so an empty side is always reported here.
  const lacking = notEnough(a.length, b.length, settings.minRows);
  if (lacking || !sweep)
    return notEnoughData(base, choice, settings, histogram, lacking ?? 'not enough data');

  const ks = ksFromStatistic(a.length, b.length, sweep.statistic);
  const distance = wasserstein(a, b, { sorted: true });
  const computed: Computed = {
    ks,
    wasserstein: distance,
    psi: psiFromCounts(referenceBins, currentBins),
    ...categoricalStatistics(categories, distinct <= 2),
  };
  const what = few ? 'values' : 'value ranges';
  return decide(
    base,
    choice,
    settings,
    computed,
    histogram,
    unseenMessage(what, categories, computed.chiSquare),
  );
}

/** A categorical or boolean column, from its aligned category counts. */
export function categoricalColumnDrift(
  column: string,
  counts: CategoryCounts,
  settings: ColumnSettings,
): ColumnDrift {
  const referenceCount = total(counts.reference);
  const currentCount = total(counts.current);
  const choice = resolveTest('categorical', referenceCount, counts.labels.length, settings.test);
  const histogram = categoryHistogram(counts);
  const base = { column, kind: 'categorical' as const, referenceCount, currentCount };
  const lacking = notEnough(referenceCount, currentCount, settings.minRows);
  if (lacking) return notEnoughData(base, choice, settings, histogram, lacking);
  const computed: Computed = {
    psi: psiFromCounts(counts.reference, counts.current),
    ...categoricalStatistics(counts, counts.labels.length <= 2),
  };
  return decide(
    base,
    choice,
    settings,
    computed,
    histogram,
    unseenMessage('categories', counts, computed.chiSquare),
  );
}

/** `binary`: at most two distinct values, so the z-test applies. */
function categoricalStatistics(
  counts: CategoryCounts,
  binary: boolean,
): Omit<Computed, 'ks' | 'wasserstein' | 'psi'> {
  return {
    chiSquare: chiSquareGoF(counts.reference, counts.current),
    contingency: chi2Contingency(counts.reference, counts.current),
    jensenShannon: jensenShannon(counts.reference, counts.current),
    ...(binary ? { z: binaryZTest(counts) } : {}),
  };
}

/** The z-test on the share of the second category in sorted order, as Evidently counts it. */
function binaryZTest(counts: CategoryCounts): ZTestResult {
  const referenceTotal = total(counts.reference);
  const currentTotal = total(counts.current);
  const r = counts.labels.length === 2 ? (counts.reference[1] as number) : 0;
  const c = counts.labels.length === 2 ? (counts.current[1] as number) : 0;
  return zTestProportions(r, referenceTotal, c, currentTotal);
}

function resolveTest(
  kind: 'numeric' | 'categorical',
  referenceCount: number,
  distinct: number,
  override: DriftTest | undefined,
): TestChoice {
  const fallback = chooseTest(kind, referenceCount, distinct);
  if (!override) return fallback;
  if (override === 'z' && distinct > 2) {
    return {
      test: 'chisquare',
      reason: `options.tests asks for the z-test, which needs at most 2 distinct values but there are ${distinct}: chi-square instead`,
    };
  }
  return {
    test: override,
    reason: `set in options.tests (the default would be ${fallback.test}: ${fallback.reason})`,
  };
}

function notEnough(referenceCount: number, currentCount: number, minRows: number): string | undefined {
  const short: string[] = [];
  if (referenceCount < minRows)
    short.push(`${referenceCount} reference value${referenceCount === 1 ? '' : 's'}`);
  if (currentCount < minRows) short.push(`${currentCount} current value${currentCount === 1 ? '' : 's'}`);
  if (short.length === 0) return undefined;
  return `not enough data: ${short.join(' and ')} (at least ${minRows} needed)`;
}

type Base = Pick<ColumnDrift, 'column' | 'kind' | 'referenceCount' | 'currentCount'>;

function notEnoughData(
  base: Base,
  choice: TestChoice,
  settings: ColumnSettings,
  histogram: ColumnDrift['histogram'],
  message: string,
): ColumnDrift {
  const byPValue = P_VALUE_TESTS.has(choice.test);
  return {
    ...base,
    status: 'not_enough_data',
    drifted: false,
    test: choice.test,
    reason: choice.reason,
    score: null,
    ...(byPValue ? { pValue: null } : {}),
    threshold: byPValue ? settings.pValue : settings.threshold,
    statistics: {},
    histogram,
    message,
  };
}

function decide(
  base: Base,
  choice: TestChoice,
  settings: ColumnSettings,
  computed: Computed,
  histogram: ColumnDrift['histogram'],
  message: string | undefined,
): ColumnDrift {
  const { score, pValue } = deciding(choice.test, computed);
  const byPValue = pValue !== undefined;
  const drifted = byPValue ? pValue < settings.pValue : score >= settings.threshold;
  const statistics: ColumnDrift['statistics'] = {};
  if (computed.ks) statistics.ks = { statistic: computed.ks.statistic, pValue: computed.ks.pValue };
  statistics.psi = computed.psi;
  if (computed.wasserstein) {
    statistics.wasserstein = computed.wasserstein.distance;
    statistics.wassersteinNorm = computed.wasserstein.normed;
  }
  const { statistic, pValue: p, df } = computed.chiSquare;
  statistics.chiSquare = { statistic, pValue: p, df };
  statistics.contingency = computed.contingency;
  statistics.jensenShannon = computed.jensenShannon;
  if (computed.z) statistics.z = computed.z;
  return {
    ...base,
    status: drifted ? 'drifted' : 'ok',
    drifted,
    test: choice.test,
    reason: choice.reason,
    score,
    ...(byPValue ? { pValue } : {}),
    threshold: byPValue ? settings.pValue : settings.threshold,
    statistics,
    histogram,
    ...(message ? { message } : {}),
  };
}

function deciding(test: DriftTest, computed: Computed): { score: number; pValue?: number } {
  switch (test) {
    case 'ks':
      return need(computed.ks, test, (ks) => ({ score: ks.statistic, pValue: ks.pValue }));
    case 'wasserstein':
      return need(computed.wasserstein, test, (w) => ({ score: w.normed }));
    case 'z':
      return need(computed.z, test, (z) => ({ score: z.statistic, pValue: z.pValue }));
    case 'psi':
      return { score: computed.psi };
    case 'chisquare':
      return { score: computed.chiSquare.statistic, pValue: computed.chiSquare.pValue };
    case 'jensenshannon':
      return { score: computed.jensenShannon };
  }
}

/** `compareTables` checks overrides against column kinds up front, so a miss here is a bug. */
function need<T, R>(value: T | undefined, test: DriftTest, use: (value: T) => R): R {
  if (value === undefined) throw new Error(`drift test ${test} was chosen but not computed`);
  return use(value);
}

function unseenMessage(
  what: string,
  counts: CategoryCounts,
  chiSquare: ChiSquareGoFResult,
): string | undefined {
  if (chiSquare.unseen.length === 0) return undefined;
  const labels = chiSquare.unseen.map((i) => counts.labels[i] as string);
  const values = chiSquare.unseen.reduce((sum, i) => sum + (counts.current[i] as number), 0);
  const shown = labels.slice(0, 5).join(', ') + (labels.length > 5 ? ` and ${labels.length - 5} more` : '');
  return (
    `${what} the reference never had: ${shown} (${values} current value${values === 1 ? '' : 's'}; ` +
    `chi-square pools them into one "unseen" category with an expected share of ${UNSEEN_SHARE})`
  );
}

function total(counts: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < counts.length; i++) sum += counts[i] as number;
  return sum;
}
