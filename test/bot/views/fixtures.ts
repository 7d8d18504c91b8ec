/**
 * Runs for view tests: an ordinary one, and extreme ones built to break Slack's limits
 * (40 features, 20 metrics, 40 check results, a 10,000-character error, long names).
 */

import type { View } from '@slack/types';
import { expect } from 'vitest';
import type { MessagePayload } from '../../../src/bot/views/limits.ts';
import { assertWithinLimits } from '../../../src/bot/views/limits.ts';
import type { RunView } from '../../../src/workflows/run-engine.ts';
import type { ModelView } from '../../../src/workflows/run-service.ts';

export const T0 = '2026-01-02T14:03:00.000Z';
export const T1 = '2026-01-02T15:10:00.000Z';
export const DEADLINE = '2026-01-03T15:10:00.000Z';
export const HASH = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2';

/** The longest name a spec allows (63 characters). */
export const LONG_PIPELINE = `p${'x'.repeat(62)}`;
/** Longer than any spec allows: views must still cope (a renamed rule, a forged payload). */
export const HUGE_PIPELINE = `q${'very-long-name-'.repeat(30)}`;

/** 10,000 characters over many lines, with markup that must be escaped or neutralised. */
export const LONG_ERROR =
  `validation failed: roc_auc < threshold & <pipeline> broke \`\`\`oops\`\`\`\n${'  at stage (file.ts:1:1) '.repeat(400)}`.slice(
    0,
    10_000,
  );

export function runView(overrides: Partial<RunView> = {}): RunView {
  return {
    id: '00000000-0000-4000-8000-000000000012',
    number: 12,
    pipeline: 'churn',
    kind: 'train',
    state: 'training',
    version: 7,
    requestedBy: 'U0ALICE',
    params: {},
    cause: null,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: null,
    deadline: null,
    attempts: { ingest: 1, checks: 1, features: 1, train: 1 },
    approvals: [],
    rejection: null,
    error: null,
    progress: null,
    summaries: {
      ingest: { dataset: HASH, rows: 12345, columns: 14, piiRemoved: 2 },
      checks: {
        passed: 12,
        failed: 0,
        results: [{ check: 'min_rows', column: null, passed: true, observed: '12345' }],
      },
      features: { features: 21, inputs: 12, dropped: ['id (identifier)'] },
    },
    ...overrides,
  };
}

const METRICS = {
  roc_auc: 0.912345,
  accuracy: 0.88,
  precision: 0.71,
  recall: 0.64,
  f1: 0.673,
  log_loss: 0.31,
};

export const evaluateSummary = (overrides: Record<string, unknown> = {}) => ({
  metrics: METRICS,
  holdoutRows: 2469,
  thresholds: [{ metric: 'roc_auc', threshold: 0.8, value: 0.912345, passed: true, gap: -0.112345 }],
  champion: { version: 2, metrics: { ...METRICS, roc_auc: 0.89, log_loss: 0.35 } },
  comparison: { metric: 'roc_auc', challenger: 0.912345, champion: 0.89, delta: 0.022345 },
  cv: null,
  version: 3,
  ...overrides,
});

export const trainSummary = {
  model: 'mlp',
  params: { hidden: [32, 16], epochs: 20, learning_rate: 0.01 },
  trainRows: 9876,
  seconds: 12.345,
  tuning: { metric: 'roc_auc', bestScore: 0.905, trials: 12 },
};

/** A run at the approval gate with every stage's summary. */
export function awaitingRun(overrides: Partial<RunView> = {}): RunView {
  const base = runView();
  return runView({
    state: 'awaitingApproval',
    deadline: DEADLINE,
    attempts: { ...base.attempts, evaluate: 1 },
    summaries: { ...base.summaries, train: trainSummary, evaluate: evaluateSummary() },
    ...overrides,
  });
}

const many = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** Twenty metrics: the nine Steward computes and eleven a future stage might add, some with long names. */
const twentyMetrics = (shift: number) => ({
  ...Object.fromEntries(Object.entries(METRICS).map(([k, v]) => [k, v - shift])),
  rmse: 1234.5678 + shift,
  mae: 0.0004,
  r2: -0.25,
  ...Object.fromEntries(many(11, (i) => [`custom_metric_with_a_rather_long_name_${i}`, i / 7 + shift])),
});

/** Every summary at its largest, with odd values mixed in. */
export function extremeRun(overrides: Partial<RunView> = {}): RunView {
  return runView({
    pipeline: HUGE_PIPELINE,
    requestedBy: 'someone-with-a-very-long-local-user-id-'.repeat(5),
    params: Object.fromEntries(many(40, (i) => [`param_${i}`, 'v'.repeat(100)])),
    state: 'awaitingApproval',
    deadline: DEADLINE,
    attempts: { ingest: 3, checks: 1, features: 1, train: 2, evaluate: 1 },
    approvals: many(5, (i) => ({ by: `U0APPROVER${i}`, at: T1 })),
    summaries: {
      ingest: { dataset: HASH, rows: 123_456_789, columns: 4000, piiRemoved: 40 },
      checks: {
        passed: 20,
        failed: 20,
        results: many(40, (i) => ({
          check: i % 2 ? 'max_missing' : `range_${'y'.repeat(100)}`,
          column: `column_${i}_${'z'.repeat(200)}`,
          passed: i % 2 === 0,
          observed: `<${'9'.repeat(500)}> & more`,
        })),
      },
      features: {
        features: 40,
        inputs: 40,
        dropped: many(40, (i) => `feature_${i}_${'w'.repeat(150)} (constant)`),
      },
      train: {
        ...trainSummary,
        params: Object.fromEntries(many(40, (i) => [`param_${i}`, many(20, (j) => j)])),
      },
      evaluate: evaluateSummary({
        metrics: twentyMetrics(0),
        thresholds: many(20, (i) => ({
          metric: i % 2 ? 'rmse' : `custom_metric_with_a_rather_long_name_${i}`,
          threshold: 0.5,
          value: i % 3 ? 0.4 : null,
          passed: i % 4 === 0,
          gap: i % 3 ? 0.1 : null,
        })),
        champion: { version: 41, metrics: twentyMetrics(0.01) },
        comparison: { metric: 'rmse', challenger: 1234.5678, champion: 1234.5778, delta: -0.01 },
        cv: { folds: 10, mean: twentyMetrics(0.02) },
      }),
    },
    ...overrides,
  });
}

export function modelView(overrides: Partial<ModelView> = {}): ModelView {
  return {
    pipeline: 'churn',
    version: 3,
    modelType: 'mlp',
    task: 'classification',
    metrics: { roc_auc: 0.91, accuracy: 0.88, confusion: { labels: [0, 1], counts: [] } },
    datasetHash: HASH,
    specHash: 'spec',
    run: 12,
    createdAt: T0,
    production: true,
    serving: 'production',
    traffic: 100,
    ...overrides,
  };
}

/** 200 runs in every state, with long names mixed in. */
export function manyRuns(n = 200): RunView[] {
  const states = [
    'queued',
    'training',
    'awaitingApproval',
    'deployed',
    'failed',
    'rejected',
    'expired',
    'cancelled',
  ] as const;
  return many(n, (i) =>
    runView({
      number: n - i,
      pipeline: i % 3 ? LONG_PIPELINE : HUGE_PIPELINE,
      state: states[i % states.length],
      kind: i % 5 === 0 ? 'rollback' : 'train',
      params: i % 5 === 0 ? { version: 'v2' } : {},
    }),
  );
}

/** Fails the test with every limit the payload breaks. */
export function expectWithinLimits(payload: MessagePayload | View): void {
  expect(assertWithinLimits(payload)).toEqual([]);
}

/** All mrkdwn and plain text in a payload, for "says X" assertions. */
export function allText(payload: { blocks: readonly unknown[] }): string {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
    } else if (typeof node === 'object' && node !== null) {
      const record = node as Record<string, unknown>;
      if (typeof record.text === 'string') out.push(record.text);
      for (const [key, value] of Object.entries(record)) if (key !== 'text') walk(value);
      if (typeof record.text === 'object') walk(record.text);
    }
  };
  walk(payload.blocks);
  return out.join('\n');
}

/** Every button in a payload. */
export function buttonsOf(payload: { blocks: readonly unknown[] }): {
  text: string;
  action_id: string;
  value?: string;
  style?: string;
}[] {
  const out: { text: string; action_id: string; value?: string; style?: string }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
    } else if (typeof node === 'object' && node !== null) {
      const record = node as Record<string, unknown>;
      if (record.type === 'button') {
        const b = record as { text: { text: string }; action_id: string; value?: string; style?: string };
        out.push({
          text: b.text.text,
          action_id: b.action_id,
          ...(b.value !== undefined ? { value: b.value } : {}),
          ...(b.style ? { style: b.style } : {}),
        });
      }
      for (const value of Object.values(record)) walk(value);
    }
  };
  walk(payload.blocks);
  return out;
}
