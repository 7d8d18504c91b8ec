/**
 * Drift statistics: compare live data with the training data, per column and for the
 * dataset, with the tests Evidently picks and numbers that agree with SciPy's (see
 * test/fixtures/drift/make_fixtures.py). Pure functions over typed arrays; no I/O.
 */
export { type CategoryCounts, countBooleans, countSortedValues, countStrings } from './categories.ts';
export {
  type ChiSquareGoFResult,
  type ChiSquareResult,
  chi2Contingency,
  chiSquareGoF,
  UNSEEN_SHARE,
} from './chisquare.ts';
export { chooseTest, FEW_VALUES, SMALL_REFERENCE, type TestChoice } from './choose-test.ts';
export {
  compareTables,
  DEFAULT_MIN_ROWS,
  DEFAULT_P_VALUE,
  DEFAULT_SHARE,
  DEFAULT_THRESHOLD,
} from './compare.ts';
export { formatDriftReport } from './format.ts';
export { jensenShannon } from './jensen-shannon.ts';
export { kolmogorovSf } from './kolmogorov.ts';
export { type KsResult, ks2samp } from './ks.ts';
export {
  PSI_BINS,
  PSI_FLOOR,
  type PsiOptions,
  type PsiResult,
  psi,
  psiFromCounts,
  quantileCuts,
} from './psi.ts';
export { type SampleOptions, sortedFinite } from './sample.ts';
export { smirnovSf } from './smirnov.ts';
export { chiSquareSf, erfc, gammaP, gammaQ, lnGamma, normalSf } from './special.ts';
export type { ColumnDrift, DriftOptions, DriftReport, DriftTest, TestStatistic } from './types.ts';
export { WASSERSTEIN_STD_FLOOR, type WassersteinResult, wasserstein } from './wasserstein.ts';
export { type ZTestResult, zTestProportions } from './z-test.ts';
