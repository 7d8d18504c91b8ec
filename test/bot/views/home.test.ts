import { describe, expect, it } from 'vitest';
import { APPROVE_ACTION, parseRunButtonValue } from '../../../src/bot/views/approval-card.ts';
import { homeView } from '../../../src/bot/views/home.ts';
import {
  allText,
  awaitingRun,
  buttonsOf,
  expectWithinLimits,
  extremeRun,
  HUGE_PIPELINE,
  manyRuns,
  modelView,
  runView,
} from './fixtures.ts';

describe('homeView', () => {
  it('shows approvals waiting for the viewer with an Approve button each', () => {
    const view = homeView({
      viewer: 'U0BOB',
      approvals: [awaitingRun({ number: 12, version: 7 }), awaitingRun({ number: 13, version: 4 })],
      runs: [runView()],
      models: [],
    });
    expect(view.type).toBe('home');
    const text = allText(view);
    expect(text).toContain('Waiting for your approval (2)');
    expect(text).toContain('*#12* churn — requested by <@U0ALICE> · roc_auc 0.912 vs 0.890 in production');
    expect(text).toContain('Decide by 2026-01-03 15:10 UTC');
    const buttons = buttonsOf(view);
    expect(buttons.map((b) => b.action_id)).toEqual([APPROVE_ACTION, APPROVE_ACTION]);
    expect(buttons.map((b) => parseRunButtonValue(b.value))).toEqual([
      { run: 12, v: 7 },
      { run: 13, v: 4 },
    ]);
    expectWithinLimits(view);
  });

  it('lists recent runs with their state, and production models with drift unknown by default', () => {
    const view = homeView({
      viewer: 'U0BOB',
      approvals: [],
      runs: [runView()],
      models: [
        modelView(),
        modelView({ pipeline: 'housing', version: 5, metrics: { rmse: 3.2 } }),
        modelView({ version: 2, production: false }),
      ],
      drift: { housing: 'drifting' },
    });
    const text = allText(view);
    expect(text).toContain('Nothing needs your decision right now.');
    expect(text).toContain('⚙️ *#12* churn — training · <@U0ALICE> · 2026-01-02 14:03 UTC');
    expect(text).toContain('*churn* v3 (mlp) · roc_auc 0.910 · ⚪ drift unknown · from run #12');
    expect(text).toContain('*housing* v5 (mlp) · rmse 3.200 · 🔴 drifting');
    expect(text).not.toContain('v2 (mlp)');
  });

  it('stays within 100 blocks with hundreds of runs, approvals and models', () => {
    const runs = manyRuns(200);
    const view = homeView({
      viewer: 'U0BOB',
      approvals: runs.map((r) => extremeRun({ number: r.number })),
      runs,
      models: runs.map((_run, i) => modelView({ pipeline: `${HUGE_PIPELINE}${i}`, version: i + 1 })),
    });
    expectWithinLimits(view);
    const text = allText(view);
    expect(text).toContain('Waiting for your approval (200)');
    expect(text).toContain('… and 180 more');
  });
});
