import { describe, expect, it } from 'vitest';
import {
  APPROVE_ACTION,
  approvalCard,
  cardFor,
  decidedCard,
  parseRunButtonValue,
  REJECT_ACTION,
} from '../../../src/bot/views/approval-card.ts';
import type { RunView } from '../../../src/workflows/run-engine.ts';
import type { TimelineEntry } from '../../../src/workflows/run-service.ts';
import {
  allText,
  awaitingRun,
  buttonsOf,
  DEADLINE,
  evaluateSummary,
  expectWithinLimits,
  extremeRun,
  LONG_ERROR,
  T1,
} from './fixtures.ts';

describe('approvalCard', () => {
  it('puts the challenger beside production with deltas, and the evidence around it', () => {
    const card = approvalCard(awaitingRun());
    const text = allText(card);
    expect(text).toContain('🙋 Approval needed: #12 churn');
    expect(text).toContain('*This run vs production v2*');
    expect(text).toMatch(/roc_auc\s+0\.912\s+0\.890\s+\+0\.022\s+▲ better/);
    expect(text).toMatch(/log_loss\s+0\.310\s+0\.350\s+−0\.040\s+▲ better/);
    expect(text).toContain('*Data checks*\n✓ 12 passed, 0 failed');
    expect(text).toContain('*Dataset*\n12,345 rows × 14 columns · `a1b2c3d4e5f6`');
    expect(text).toContain('*Requested by*\n<@U0ALICE> at 2026-01-02 14:03 UTC');
    expect(text).toContain('*Decide by*\n2026-01-03 15:10 UTC');
    expect(card.text).toContain('decide by 2026-01-03 15:10 UTC');
    expectWithinLimits(card);
  });

  it('says when there is no model in production yet', () => {
    const run = awaitingRun();
    run.summaries.evaluate = evaluateSummary({ champion: null, comparison: null });
    const text = allText(approvalCard(run));
    expect(text).toContain('No model in production yet');
    expect(text).toMatch(/metric\s+this run\nroc_auc\s+0\.912/);
  });

  it('has Approve (primary) and Reject (danger) buttons whose values parse back to run and version', () => {
    const buttons = buttonsOf(approvalCard(awaitingRun({ number: 12, version: 9 })));
    expect(buttons.map((b) => [b.text, b.action_id, b.style])).toEqual([
      ['Approve', APPROVE_ACTION, 'primary'],
      ['Reject', REJECT_ACTION, 'danger'],
    ]);
    expect(APPROVE_ACTION).toBe('run.approve');
    expect(REJECT_ACTION).toBe('run.reject');
    for (const b of buttons) {
      expect(JSON.parse(b.value ?? '')).toEqual({ run: 12, v: 9 });
      expect(parseRunButtonValue(b.value)).toEqual({ run: 12, v: 9 });
    }
    expect(parseRunButtonValue('{"run":"12"}')).toBeNull();
    expect(parseRunButtonValue('not json')).toBeNull();
  });

  it('stays within limits with 20 metrics, 20 thresholds, 40 checks and long names', () => {
    const card = approvalCard(extremeRun());
    expectWithinLimits(card);
    expect(allText(card)).toContain('*Thresholds:* 5 of 20 met');
  });
});

describe('decidedCard', () => {
  const decided = (overrides: Partial<RunView>, timeline?: TimelineEntry[]) => {
    const card = decidedCard(awaitingRun(overrides), timeline ? { timeline } : {});
    expect(buttonsOf(card)).toEqual([]);
    expectWithinLimits(card);
    return { card, text: allText(card) };
  };

  it('names the approvers and when, without buttons', () => {
    const { card, text } = decided({
      state: 'deploying',
      approvals: [
        { by: 'U0BOB', at: T1 },
        { by: 'U0CAROL', at: T1 },
      ],
    });
    expect(text).toContain('✅ Approved: #12 churn');
    expect(text).toContain('✅ Approved by <@U0BOB> and <@U0CAROL> at 2026-01-02 15:10 UTC; deploying now.');
    expect(text).toContain('*This run vs production v2*');
    expect(card.text).toContain('Approved by <@U0BOB> and <@U0CAROL>');
  });

  it('names who rejected and why', () => {
    const { text } = decided({
      state: 'rejected',
      finishedAt: T1,
      rejection: { by: 'U0CAROL', at: T1, reason: 'recall dropped' },
    });
    expect(text).toContain('🚫 Rejected by <@U0CAROL> at 2026-01-02 15:10 UTC: _recall dropped_');
  });

  it('has versions for expired, cancelled and failed runs', () => {
    expect(decided({ state: 'expired', finishedAt: DEADLINE }).text).toContain(
      '⌛ Nobody decided before 2026-01-03 15:10 UTC: the approval expired and nothing was deployed.',
    );
    const timeline: TimelineEntry[] = [
      {
        seq: 8,
        at: T1,
        type: 'run.cancel',
        actor: 'U0DAN',
        via: null,
        from: 'awaitingApproval',
        to: 'cancelled',
        reason: null,
        detail: {},
      },
    ];
    expect(decided({ state: 'cancelled', finishedAt: T1 }, timeline).text).toContain(
      '⏹️ Cancelled by <@U0DAN> at 2026-01-02 15:10 UTC. No decision is needed.',
    );
    const failed = decided({
      state: 'failed',
      finishedAt: T1,
      approvals: [{ by: 'U0BOB', at: T1 }],
      error: { stage: 'deploy', attempt: 3, message: LONG_ERROR },
    });
    expect(failed.text).toContain(
      '✅ Approved by <@U0BOB> at 2026-01-02 15:10 UTC, but the run failed in deploy:',
    );
    expect(failed.card.text.length).toBeLessThan(500);
  });

  it('stays within limits for the extreme run in every decided state', () => {
    for (const state of ['deploying', 'deployed', 'rejected', 'expired', 'cancelled', 'failed'] as const) {
      const card = decidedCard(
        extremeRun({
          state,
          rejection: { by: 'U0CAROL', at: T1, reason: LONG_ERROR },
          error: { stage: 'deploy', message: LONG_ERROR },
        }),
      );
      expectWithinLimits(card);
      expect(buttonsOf(card)).toEqual([]);
    }
  });

  it('cardFor picks the card with buttons only while a decision is awaited', () => {
    expect(buttonsOf(cardFor(awaitingRun()))).toHaveLength(2);
    expect(buttonsOf(cardFor(awaitingRun({ state: 'rejected' })))).toHaveLength(0);
  });
});
