/**
 * The chart posted with the approval card: this run's model against production's on the
 * same holdout rows. A ROC curve for binary classification, predicted against actual for
 * regression; a model with no curve to show (more than two classes) but a training
 * history (an MLP) gets its loss per epoch. Runs evaluated before curves were stored get
 * no chart, and neither does a deploy or rollback run (it trained nothing).
 */
import type { TopLevelSpec } from 'vega-lite';
import { renderPng } from '../../stages/charts/render.ts';
import { predictedVsActualChart, rocChart, trainingCurveChart } from '../../stages/charts/specs.ts';
import type { RunView } from '../../workflows/run-engine.ts';
import type { ChatFile } from '../chat.ts';
import { formatCount } from './format.ts';
import { truncate } from './limits.ts';
import { pipelineName } from './run-state.ts';
import {
  type EvaluateCurves,
  type PredictedPairs,
  type RocCounts,
  readCurves,
  readEvaluate,
  readHistory,
  type TrainHistory,
} from './summaries.ts';

/** What the chart is drawn from: fields of the stage outputs, as stored (possibly by an older Steward). */
export type ApprovalChartInputs = {
  /** The evaluate output's `curves`. */
  curves: unknown;
  /** The train output's `history`. */
  history: unknown;
};

/** The chart to draw, with everything the upload says about it. */
export type ApprovalChartPlan = {
  spec: TopLevelSpec;
  filename: string;
  title: string;
  altText: string;
  /** Posted with the file: which run it belongs to. */
  comment: string;
};

export type ApprovalChart = { file: ChatFile; comment: string };

const round3 = (v: number) => v.toFixed(3);

/** Which chart `run` gets, as a vega-lite spec; null when there is nothing to draw. Pure. */
export function approvalChartPlan(run: RunView, inputs: ApprovalChartInputs): ApprovalChartPlan | null {
  if (run.kind !== 'train') return null;
  const curves = readCurves(inputs.curves);
  const history = readHistory(inputs.history);
  const evaluate = readEvaluate(run.summaries.evaluate);
  const version = evaluate?.champion?.version;
  const production = version !== undefined ? `production v${version}` : 'production';
  const name = truncate(run.pipeline, 80);
  const stem = `${run.pipeline.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 80)}-${run.number}`;
  const names = { name, mrkdwn: pipelineName(run.pipeline), stem, production, rows: evaluate?.holdoutRows };
  if (curves?.candidate.kind === 'roc') return rocPlan(run, curves, names);
  if (curves?.candidate.kind === 'predicted_vs_actual') return predictedPlan(run, curves, names);
  if (history) return trainingPlan(run, history, names);
  return null;
}

type Names = {
  /** The pipeline, for the chart and the file's title (plain text). */
  name: string;
  /** The pipeline, escaped for the comment (mrkdwn). */
  mrkdwn: string;
  /** The file name's stem: `churn-12`. */
  stem: string;
  production: string;
  rows: number | undefined;
};

/**
 * `the same 1,000 holdout rows` (both models), `the 1,000 holdout rows` (this run alone), or
 * `500 of the same 1,000 holdout rows` when a sample is drawn.
 */
function rowsText(rows: number | undefined, shared: boolean, drawn?: number): string {
  const the = shared ? 'the same' : 'the';
  if (rows === undefined) return `${the} holdout rows`;
  const sample = drawn !== undefined && drawn < rows ? `${formatCount(drawn)} of ` : '';
  return `${sample}${the} ${formatCount(rows)} holdout rows`;
}

function rocPlan(run: RunView, curves: EvaluateCurves, n: Names): ApprovalChartPlan {
  const rates = (c: RocCounts) => ({
    points: c.points.map(([fp, tp]): [number, number] => [fp / c.negatives, tp / c.positives]),
    ...(c.auc !== undefined ? { auc: c.auc } : {}),
  });
  const candidate = curves.candidate as RocCounts;
  const prod = curves.production?.kind === 'roc' ? curves.production : null;
  const series = [
    { label: `this run (#${run.number})`, ...rates(candidate) },
    ...(prod ? [{ label: n.production, ...rates(prod) }] : []),
  ];
  const against = prod ? ` vs ${n.production}` : '';
  const title = `#${run.number} ${n.name}: ROC curve${against}`;
  const auc = (c: { auc?: number | undefined }) => (c.auc !== undefined ? ` (AUC ${round3(c.auc)})` : '');
  return {
    spec: rocChart(series, title),
    filename: `${n.stem}-roc.png`,
    title,
    altText:
      `ROC curve of run #${run.number}${auc(candidate)}` +
      `${prod ? ` and ${n.production}${auc(prod)}` : ''} on ${rowsText(n.rows, prod !== null)}` +
      `, positive class "${candidate.positive}"; the dashed diagonal is chance.`,
    comment: `📈 #${run.number} ${n.mrkdwn}: ROC curve of this run${prod ? ` against ${n.production}` : ''} on ${rowsText(n.rows, prod !== null)}.`,
  };
}

function predictedPlan(run: RunView, curves: EvaluateCurves, n: Names): ApprovalChartPlan {
  const candidate = curves.candidate as PredictedPairs;
  const prod = curves.production?.kind === 'predicted_vs_actual' ? curves.production : null;
  const series = [
    { label: `this run (#${run.number})`, points: candidate.points },
    ...(prod ? [{ label: n.production, points: prod.points }] : []),
  ];
  const against = prod ? ` vs ${n.production}` : '';
  const title = `#${run.number} ${n.name}: predicted vs actual${against}`;
  const sample = rowsText(n.rows ?? candidate.rows, prod !== null, candidate.points.length);
  return {
    spec: predictedVsActualChart(series, title),
    filename: `${n.stem}-predicted-vs-actual.png`,
    title,
    altText:
      `Predicted against actual values of run #${run.number}${prod ? ` and ${n.production}` : ''} on ${sample}; ` +
      'the dashed line is where predicted equals actual.',
    comment: `📈 #${run.number} ${n.mrkdwn}: predicted against actual values of this run${prod ? ` and ${n.production}` : ''} on ${sample}.`,
  };
}

function trainingPlan(run: RunView, history: TrainHistory, n: Names): ApprovalChartPlan {
  const epochs = history.loss.map((loss, i) => ({
    epoch: i + 1,
    loss,
    ...(history.valLoss ? { valLoss: history.valLoss[i] as number } : {}),
  }));
  const title = `#${run.number} ${n.name}: MLP loss per epoch`;
  const best = history.bestEpoch !== undefined ? `, weights from epoch ${history.bestEpoch}` : '';
  return {
    spec: trainingCurveChart(epochs, title),
    filename: `${n.stem}-training-loss.png`,
    title,
    altText: `Training loss${history.valLoss ? ' and validation loss' : ''} per epoch of run #${run.number}'s MLP over ${epochs.length} epochs${best}.`,
    comment: `📈 #${run.number} ${n.mrkdwn}: the MLP's loss per epoch (${epochs.length} epochs${best}).`,
  };
}

/** The approval chart as a PNG ready to upload, or null when `run` has nothing to draw. */
export async function approvalChart(
  run: RunView,
  inputs: ApprovalChartInputs,
): Promise<ApprovalChart | null> {
  const plan = approvalChartPlan(run, inputs);
  if (!plan) return null;
  const { png } = await renderPng(plan.spec);
  return {
    file: {
      filename: plan.filename,
      content: png,
      mimeType: 'image/png',
      title: plan.title,
      altText: plan.altText,
    },
    comment: plan.comment,
  };
}
