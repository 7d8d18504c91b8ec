/**
 * The charts Steward posts, as vega-lite specs: pure functions from data to spec, drawn by
 * `render.ts`. Each checks its input and says what is wrong with it (a BAD_REQUEST) rather
 * than drawing an empty or misleading chart.
 */
import type { TopLevelSpec } from 'vega-lite';
import { badChart, checkLabels, PALETTE, SERIES_COLOURS, withTheme } from './theme.ts';

export type RocCurve = {
  label: string;
  /** (false positive rate, true positive rate) pairs, in drawing order (threshold descending). */
  points: [fpr: number, tpr: number][];
  /** Shown in the legend: "candidate (AUC 0.874)". */
  auc?: number;
};

export type PredictedSeries = { label: string; points: [actual: number, predicted: number][] };

export type TrainingEpoch = { epoch: number; loss: number; valLoss?: number };

export type DriftPanel = {
  /** e.g. "tenure: Wasserstein (normed) 0.31 ≥ 0.1" */
  title: string;
  /** Bin or category labels, drawn in this order. */
  labels: string[];
  /** Rows per bin (or shares) in the reference data, one per label; drawn as shares. */
  reference: number[];
  /** The same for the current window. */
  current: number[];
};

/** At most this many feature panels in a drift chart (a 2 × 2 grid). */
export const MAX_DRIFT_PANELS = 4;

const CHANCE = 'chance (AUC 0.5)';

function checkPoints(
  chart: string,
  label: string,
  points: readonly (readonly number[])[],
  unit = false,
): void {
  if (points.length === 0) badChart(chart, `"${label}" has no points to draw`);
  points.forEach((point, i) => {
    const bad = point.length !== 2 || point.some((v) => !Number.isFinite(v) || (unit && (v < 0 || v > 1)));
    if (bad) {
      const want = unit ? 'two numbers from 0 to 1' : 'two finite numbers';
      badChart(chart, `"${label}" point ${i + 1} is ${JSON.stringify(point)}; expected ${want}`);
    }
  });
}

const round3 = (v: number) => (Math.round(v * 1000) / 1000).toFixed(3);

/**
 * ROC curves (one per model, e.g. this run's candidate and production's) over the chance
 * diagonal, with each curve's AUC in the legend.
 */
export function rocChart(curves: RocCurve[], title: string): TopLevelSpec {
  const chart = 'rocChart';
  checkLabels(
    chart,
    title,
    curves.map((c) => c.label),
    'curve',
  );
  for (const c of curves) {
    checkPoints(chart, c.label, c.points, true);
    if (c.points.length < 2) badChart(chart, `"${c.label}" needs at least two points to draw a curve`);
    if (c.auc !== undefined && !Number.isFinite(c.auc)) badChart(chart, `"${c.label}" has AUC ${c.auc}`);
  }
  const names = curves.map((c) => (c.auc === undefined ? c.label : `${c.label} (AUC ${round3(c.auc)})`));
  const rows = curves.flatMap((c, k) => c.points.map(([fpr, tpr], i) => ({ series: names[k], fpr, tpr, i })));
  rows.push({ series: CHANCE, fpr: 0, tpr: 0, i: 0 }, { series: CHANCE, fpr: 1, tpr: 1, i: 1 });
  const domain = [...names, CHANCE];
  const rate = (field: string, text: string) => ({
    field,
    type: 'quantitative',
    title: text,
    scale: { domain: [0, 1] },
    axis: { tickCount: 5, format: '.1f' },
  });
  return withTheme(title, {
    width: 420,
    height: 420,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2.5, clip: true },
    encoding: {
      x: rate('fpr', 'False positive rate'),
      y: rate('tpr', 'True positive rate'),
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain, range: [...SERIES_COLOURS.slice(0, names.length), PALETTE.grey] },
        legend: { title: null, direction: 'vertical' },
      },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        scale: { domain, range: [...names.map(() => [1, 0]), [6, 4]] },
        legend: { title: null, direction: 'vertical' },
      },
      // Draw points in the given order: a curve's vertical steps share an fpr.
      order: { field: 'i', type: 'quantitative' },
    },
  });
}

/**
 * Predicted against actual values (regression), one colour per model, over the dashed
 * y = x line where a perfect model's points would lie.
 */
export function predictedVsActualChart(series: PredictedSeries[], title: string): TopLevelSpec {
  const chart = 'predictedVsActualChart';
  checkLabels(
    chart,
    title,
    series.map((s) => s.label),
    'series',
  );
  for (const s of series) checkPoints(chart, s.label, s.points);
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const s of series)
    for (const [a, p] of s.points) {
      lo = Math.min(lo, a, p);
      hi = Math.max(hi, a, p);
    }
  if (lo === hi) {
    // Every value equal: widen so the plot has an extent.
    lo -= 1;
    hi += 1;
  }
  const labels = series.map((s) => s.label);
  const rows = series.flatMap((s) =>
    s.points.map(([actual, predicted]) => ({ series: s.label, actual, predicted })),
  );
  const axis = (field: string, text: string) => ({
    field,
    type: 'quantitative',
    title: text,
    scale: { domain: [lo, hi], nice: false, zero: false },
  });
  return withTheme(title, {
    title: { text: title, subtitle: 'Dashed line: predicted = actual' },
    width: 420,
    height: 420,
    layer: [
      {
        data: {
          values: [
            { actual: lo, predicted: lo },
            { actual: hi, predicted: hi },
          ],
        },
        mark: { type: 'line', color: PALETTE.grey, strokeDash: [6, 4], strokeWidth: 1.5 },
        encoding: { x: axis('actual', 'Actual'), y: axis('predicted', 'Predicted') },
      },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 28, opacity: 0.55, clip: true },
        encoding: {
          x: axis('actual', 'Actual'),
          y: axis('predicted', 'Predicted'),
          color: {
            field: 'series',
            type: 'nominal',
            scale: { domain: labels, range: SERIES_COLOURS.slice(0, labels.length) },
            legend: { title: null, symbolOpacity: 1 },
          },
        },
      },
    ],
  });
}

/** Loss per epoch (an MLP's training), with the validation loss when there is one. */
export function trainingCurveChart(history: TrainingEpoch[], title: string): TopLevelSpec {
  const chart = 'trainingCurveChart';
  checkLabels(chart, title, ['loss'], 'series');
  if (history.length === 0) badChart(chart, 'the history has no epochs to draw');
  history.forEach((h, i) => {
    const values = [h.epoch, h.loss, ...(h.valLoss === undefined ? [] : [h.valLoss])];
    if (values.some((v) => !Number.isFinite(v))) {
      badChart(chart, `epoch entry ${i + 1} is ${JSON.stringify(h)}; expected finite numbers`);
    }
  });
  const rows = history.flatMap((h) => [
    { epoch: h.epoch, loss: h.loss, series: 'training loss' },
    ...(h.valLoss === undefined ? [] : [{ epoch: h.epoch, loss: h.valLoss, series: 'validation loss' }]),
  ]);
  const domain = history.some((h) => h.valLoss !== undefined)
    ? ['training loss', 'validation loss']
    : ['training loss'];
  return withTheme(title, {
    width: 520,
    height: 320,
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 2.5, point: history.length <= 40 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'Epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'loss', type: 'quantitative', title: 'Loss', scale: { zero: false } },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain, range: SERIES_COLOURS.slice(0, domain.length) },
        legend: { title: null },
      },
    },
  });
}

const DRIFT_SERIES = ['reference', 'current'];

/** Counts or shares as shares of their total. */
function shares(chart: string, panel: DriftPanel, which: 'reference' | 'current'): number[] {
  const values = panel[which];
  if (values.length !== panel.labels.length) {
    badChart(
      chart,
      `panel "${panel.title}" has ${panel.labels.length} labels but ${values.length} ${which} values`,
    );
  }
  if (values.some((v) => !Number.isFinite(v) || v < 0)) {
    badChart(chart, `panel "${panel.title}" has a ${which} value that is negative or not a number`);
  }
  const total = values.reduce((s, v) => s + v, 0);
  if (total === 0) badChart(chart, `panel "${panel.title}" has no ${which} rows`);
  return values.map((v) => v / total);
}

/**
 * Reference against current distributions of the most drifted features: one panel per
 * feature (side by side for two, a 2 × 2 grid for three or four), bars of each bin's share
 * of rows, bins in the order given (never re-sorted: "10–20" stays after "5–10").
 */
export function driftHistogramsChart(panels: DriftPanel[], title: string): TopLevelSpec {
  const chart = 'driftHistogramsChart';
  checkLabels(
    chart,
    title,
    panels.map((p) => p.title),
    'panel',
  );
  if (panels.length > MAX_DRIFT_PANELS) {
    badChart(
      chart,
      `${panels.length} panels is too many: pass the ${MAX_DRIFT_PANELS} most drifted features`,
    );
  }
  const columns = Math.min(panels.length, 2);
  const width = columns === 1 ? 520 : 300;
  const views = panels.map((panel) => {
    if (panel.labels.length === 0) badChart(chart, `panel "${panel.title}" has no bins to draw`);
    if (new Set(panel.labels).size !== panel.labels.length) {
      badChart(chart, `panel "${panel.title}" repeats a bin label: labels must differ`);
    }
    const reference = shares(chart, panel, 'reference');
    const current = shares(chart, panel, 'current');
    const rows = panel.labels.flatMap((bin, i) => [
      { bin, series: 'reference', share: reference[i] },
      { bin, series: 'current', share: current[i] },
    ]);
    const crowded = panel.labels.length > 6 || panel.labels.some((l) => l.length > 8);
    return {
      title: { text: panel.title, fontSize: 12, anchor: 'start' },
      width,
      height: 170,
      data: { values: rows },
      mark: { type: 'bar' },
      encoding: {
        x: {
          field: 'bin',
          type: 'nominal',
          sort: panel.labels,
          title: null,
          axis: { labelAngle: crowded ? -40 : 0, labelLimit: 90 },
        },
        xOffset: { field: 'series', type: 'nominal', sort: DRIFT_SERIES },
        y: { field: 'share', type: 'quantitative', title: 'Share of rows', axis: { format: '.0%' } },
        color: {
          field: 'series',
          type: 'nominal',
          scale: { domain: DRIFT_SERIES, range: [PALETTE.blue, PALETTE.vermillion] },
          legend: { title: null },
        },
      },
    };
  });
  return withTheme(title, {
    columns,
    concat: views,
    spacing: 24,
    resolve: { scale: { x: 'independent', y: 'independent', color: 'shared' } },
  });
}
