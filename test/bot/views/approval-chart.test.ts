import { describe, expect, it } from 'vitest';
import { approvalChart, approvalChartPlan } from '../../../src/bot/views/approval-chart.ts';
import { pngHeader } from '../../helpers/png.ts';
import { awaitingRun, evaluateSummary, HUGE_PIPELINE } from './fixtures.ts';

/** ROC counts as the evaluate stage stores them: 60 negatives, 40 positives. */
const roc = (bend: number, auc: number) => ({
  kind: 'roc',
  positive: 'yes',
  negatives: 60,
  positives: 40,
  points: Array.from({ length: 21 }, (_, i) => [i * 3, Math.round(40 * (i / 20) ** bend)]),
  auc,
});

const pairs = (noise: number) => ({
  kind: 'predicted_vs_actual',
  rows: 1200,
  points: Array.from({ length: 500 }, (_, i) => [i * 100, i * 100 + noise * Math.sin(i)]),
});

type Vl = { layer?: { data: { values: { series?: string }[] } }[]; data?: { values: { series?: string }[] } };
const seriesOf = (spec: unknown) => {
  const s = spec as Vl;
  const values = s.data?.values ?? s.layer?.flatMap((l) => l.data.values) ?? [];
  return [...new Set(values.map((v) => v.series).filter(Boolean))];
};

describe('the approval chart', () => {
  it('is the ROC curve of this run against production for binary classification', async () => {
    const run = awaitingRun();
    const inputs = { curves: { candidate: roc(0.3, 0.912345), production: roc(0.6, 0.89) }, history: null };
    const plan = approvalChartPlan(run, inputs);
    expect(plan).toMatchObject({
      filename: 'churn-12-roc.png',
      title: '#12 churn: ROC curve vs production v2',
      comment: '📈 #12 churn: ROC curve of this run against production v2 on the same 2,469 holdout rows.',
    });
    expect(plan?.altText).toContain('run #12 (AUC 0.912) and production v2 (AUC 0.890)');
    expect(plan?.altText).toContain('positive class "yes"');
    expect(seriesOf(plan?.spec)).toEqual([
      'this run (#12) (AUC 0.912)',
      'production v2 (AUC 0.890)',
      'chance (AUC 0.5)',
    ]);
    const chart = await approvalChart(run, inputs);
    expect(chart?.file).toMatchObject({ mimeType: 'image/png', filename: 'churn-12-roc.png' });
    expect(pngHeader(chart?.file.content as Buffer).width).toBe(800);
  });

  it('is this run alone when there is no production model, or none comparable', () => {
    const first = awaitingRun({
      summaries: { ...awaitingRun().summaries, evaluate: evaluateSummary({ champion: null }) },
    });
    const plan = approvalChartPlan(first, {
      curves: { candidate: roc(0.3, 0.9), production: null },
      history: null,
    });
    expect(plan?.title).toBe('#12 churn: ROC curve');
    expect(plan?.comment).toBe('📈 #12 churn: ROC curve of this run on the 2,469 holdout rows.');
    expect(seriesOf(plan?.spec)).toEqual(['this run (#12) (AUC 0.900)', 'chance (AUC 0.5)']);
  });

  it('is predicted against actual for regression, saying how many rows it shows', () => {
    const plan = approvalChartPlan(awaitingRun(), {
      curves: { candidate: pairs(300), production: pairs(900) },
      history: null,
    });
    expect(plan).toMatchObject({
      filename: 'churn-12-predicted-vs-actual.png',
      title: '#12 churn: predicted vs actual vs production v2',
    });
    expect(plan?.altText).toContain('on 500 of the same 2,469 holdout rows');
    expect(seriesOf(plan?.spec)).toEqual(['this run (#12)', 'production v2']);
  });

  it("is an MLP's loss per epoch when there are no curves, validation loss included", () => {
    const history = { loss: [0.9, 0.6, 0.5, 0.45], valLoss: [0.95, 0.7, 0.6, 0.62], bestEpoch: 3 };
    const plan = approvalChartPlan(awaitingRun(), { curves: null, history });
    expect(plan).toMatchObject({
      filename: 'churn-12-training-loss.png',
      title: '#12 churn: MLP loss per epoch',
      comment: "📈 #12 churn: the MLP's loss per epoch (4 epochs, weights from epoch 3).",
    });
    expect(seriesOf(plan?.spec)).toEqual(['training loss', 'validation loss']);
    // A validation series of another length is not per epoch: drawn without it.
    const odd = approvalChartPlan(awaitingRun(), { curves: null, history: { ...history, valLoss: [1] } });
    expect(seriesOf(odd?.spec)).toEqual(['training loss']);
  });

  it('is nothing for a deploy run, an old run without curves, or curves that do not hold together', () => {
    const curves = { candidate: roc(0.3, 0.9), production: null };
    expect(approvalChartPlan(awaitingRun({ kind: 'deploy' }), { curves, history: null })).toBeNull();
    expect(approvalChartPlan(awaitingRun(), { curves: null, history: null })).toBeNull();
    const beyond = {
      ...roc(0.3, 0.9),
      points: [
        [0, 0],
        [61, 40],
      ],
    };
    expect(approvalChartPlan(awaitingRun(), { curves: { candidate: beyond }, history: null })).toBeNull();
    expect(
      approvalChartPlan(awaitingRun(), { curves: { candidate: { kind: 'lift' } }, history: null }),
    ).toBeNull();
    // A malformed production curve is left out; this run's is still drawn.
    const plan = approvalChartPlan(awaitingRun(), {
      curves: { ...curves, production: { kind: 'roc' } },
      history: null,
    });
    expect(plan?.title).toBe('#12 churn: ROC curve');
  });

  it('keeps a long pipeline name out of the way: a short file name, a truncated title', () => {
    const plan = approvalChartPlan(awaitingRun({ pipeline: HUGE_PIPELINE }), {
      curves: { candidate: roc(0.3, 0.9) },
      history: null,
    });
    expect(plan?.filename.length).toBeLessThanOrEqual(100);
    expect(plan?.title.length).toBeLessThanOrEqual(130);
  });
});
