/**
 * The shapes of a drift comparison. A report is plain JSON: every number is finite, and a
 * statistic that could not be computed is `null` (or absent), never NaN or Infinity.
 */

/**
 * The tests a column's drift can be decided by. `wasserstein` is the Wasserstein distance
 * normed by the reference's standard deviation (Evidently's `wasserstein`); `chisquare` is
 * the goodness-of-fit test of the current counts against the reference shares. The
 * contingency-table test is reported among a column's statistics but does not decide.
 */
export type DriftTest = 'ks' | 'psi' | 'wasserstein' | 'chisquare' | 'z' | 'jensenshannon';

export const DRIFT_TESTS: readonly DriftTest[] = [
  'ks',
  'psi',
  'wasserstein',
  'chisquare',
  'z',
  'jensenshannon',
];

/** Tests that decide by a p-value (drift when p < `pValue`); the others by a distance (drift when ≥ `threshold`). */
export const P_VALUE_TESTS: ReadonlySet<DriftTest> = new Set(['ks', 'chisquare', 'z']);

export type DriftOptions = {
  /** Columns to compare. @default every column both tables have, except text columns */
  columns?: string[];
  /** Per-column test, instead of the one Evidently's rules pick (see `chooseTest`). */
  tests?: Record<string, DriftTest>;
  /** Drift threshold for distances (psi, wasserstein normed, jensenshannon): drift when score ≥ it. @default 0.1 */
  threshold?: number;
  /** Drift threshold for tests (ks, chisquare, z): drift when p-value < it. @default 0.05 */
  pValue?: number;
  /** The dataset drifts when drifted / monitored columns ≥ this share. @default 0.5 */
  share?: number;
  /** Quantile bins of the reference for PSI (and the chi-square and histogram of numeric columns). @default 10 */
  psiBins?: number;
  /**
   * The fewest non-missing values a side needs for a column to be compared; below it the
   * column is `not_enough_data` and not counted as monitored. Every statistic is defined
   * from one value a side, so the default only rules out empty windows: raise it to keep
   * small windows from raising alarms.
   * @default 1
   */
  minRows?: number;
};

export type TestStatistic = { statistic: number; pValue: number; df?: number };

export type ColumnDrift = {
  column: string;
  /** `numeric` for numeric columns; categorical and boolean columns are `categorical`. */
  kind: 'numeric' | 'categorical';
  /** Non-missing (finite) values. */
  referenceCount: number;
  currentCount: number;
  status: 'ok' | 'drifted' | 'not_enough_data';
  drifted: boolean;
  /** The test that decides drift for this column, and why it was chosen ("reference ≤ 1000 values (800), numeric with 37 distinct values"). */
  test: DriftTest;
  reason: string;
  /** The deciding number: the distance for distance tests, the test statistic for ks/chisquare/z. null when not enough data. */
  score: number | null;
  /** For p-value tests: the p-value that decides (null when not enough data). */
  pValue?: number | null;
  /** The threshold the deciding number is compared with (the distance threshold, or the p-value one). */
  threshold: number;
  /**
   * Every statistic that applies to this column. Numeric: `ks`, `psi`, `wasserstein`,
   * `wassersteinNorm`; every column: `chiSquare` (goodness of fit), `contingency`,
   * `jensenShannon`, and `z` when it has at most two distinct values. Numeric columns with
   * more than 5 distinct values use the PSI bins as their categories. Empty when not enough data.
   */
  statistics: Record<string, number | TestStatistic | null>;
  /** Shares per bin for charts: numeric uses the PSI bins (labels like "[12.5, 20)"), categorical the categories (top 20 by reference share, rest summed as "other"). */
  histogram: { labels: string[]; reference: number[]; current: number[] };
  /** Why there is no result, or what else to know (categories the reference never had). */
  message?: string;
};

export type DriftReport = {
  referenceRows: number;
  currentRows: number;
  columns: ColumnDrift[];
  /** Columns with enough data to be compared. */
  monitored: number;
  drifted: number;
  /** drifted / monitored, 0 when nothing was monitored. */
  share: number;
  shareThreshold: number;
  /** share ≥ shareThreshold, with at least one monitored column. */
  datasetDrift: boolean;
};
