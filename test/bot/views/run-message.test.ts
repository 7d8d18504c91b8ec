import { describe, expect, it } from 'vitest';
import { runMessage } from '../../../src/bot/views/run-message.ts';
import type { RunView } from '../../../src/workflows/run-engine.ts';
import type { TimelineEntry } from '../../../src/workflows/run-service.ts';
import {
  allText,
  awaitingRun,
  DEADLINE,
  expectWithinLimits,
  extremeRun,
  HUGE_PIPELINE,
  LONG_ERROR,
  runView,
  T0,
  T1,
} from './fixtures.ts';

const headerOf = (message: { blocks: readonly unknown[] }) =>
  (message.blocks[0] as { type: string; text: { text: string } }).text.text;

describe('runMessage', () => {
  it('titles the run and says who asked and when', () => {
    const message = runMessage(runView({ params: { epochs: '30' } }));
    expect(headerOf(message)).toBe('⚙️ #12 churn — training');
    const text = allText(message);
    expect(text).toContain('Requested by <@U0ALICE> at 2026-01-02 14:03 UTC');
    expect(text).toContain('`epochs=30`');
    expect(message.text).toBe('⚙️ #12 churn — training');
    expectWithinLimits(message);
  });

  it('shows a live checklist: done with a brief, current with progress and a bar, pending', () => {
    const message = runMessage(
      runView({
        attempts: { ingest: 1, checks: 1, features: 1, train: 2 },
        progress: { stage: 'train', attempt: 2, message: 'epoch 3/10', fraction: 0.3, at: T0 },
      }),
    );
    const text = allText(message);
    expect(text).toContain(
      '✅ *Ingest* — 12,345 rows × 14 columns · dataset `a1b2c3d4e5f6` · 2 PII columns removed',
    );
    expect(text).toContain('✅ *Data checks* — 12 passed, 0 failed');
    expect(text).toContain('⏳ *Training* (attempt 2) — epoch 3/10  `▓▓▓░░░░░░░ 30%`');
    expect(text).toContain('▫️ Evaluation');
    expect(text).toContain('▫️ Approval');
    expect(text).toContain('▫️ Deploy');
    expect(message.text).toContain('epoch 3/10 (30%)');
  });

  it('says a stage waits for a worker until one starts it, and leaves the bar out without a fraction', () => {
    const waiting = allText(runMessage(runView({ state: 'queued', attempts: { ingest: 1 }, summaries: {} })));
    expect(waiting).toContain('⏳ *Ingest* — waiting for a worker');
    const noFraction = allText(
      runMessage(runView({ progress: { stage: 'train', attempt: 1, message: 'reading', at: T0 } })),
    );
    expect(noFraction).toContain('⏳ *Training* — reading');
    expect(noFraction).not.toContain('▓');
  });

  it('marks the failed stage with the first line of its error and shows the report trimmed', () => {
    const run = runView({
      state: 'failed',
      finishedAt: T1,
      error: { stage: 'train', attempt: 2, message: LONG_ERROR },
    });
    const message = runMessage(run);
    const text = allText(message);
    expect(text).toContain(
      '❌ *Training* — validation failed: roc_auc &lt; threshold &amp; &lt;pipeline&gt; broke',
    );
    expect(text).toContain('❌ *Failed* in *Training* (attempt 2) at 2026-01-02 15:10 UTC:');
    expect(text).toContain('`/mlops run churn`');
    expect(text.length).toBeLessThan(LONG_ERROR.length);
    expect(message.text.length).toBeLessThan(400);
    expectWithinLimits(message);
  });

  it('skips the training stages for deploy-only runs', () => {
    const message = runMessage(
      runView({
        kind: 'rollback',
        params: { version: 'v2' },
        state: 'deploying',
        attempts: { deploy: 1 },
        summaries: {},
      }),
    );
    const text = allText(message);
    expect(text).toContain('⏭ ~Ingest~ skipped (rollback to v2)');
    expect(text).toContain('⏭ ~Evaluation~ skipped');
    expect(text).toContain('⏭ Approval — not required');
    expect(text).toContain('⏳ *Deploy* — waiting for a worker');
  });

  it('waits for approval with the deadline, and names who approved so far', () => {
    const text = allText(runMessage(awaitingRun({ approvals: [{ by: 'U0BOB', at: T1 }] })));
    expect(text).toContain('✅ *Evaluation* — roc_auc 0.912 vs production 0.890 (+0.022)');
    expect(text).toContain(
      '⏳ *Approval* — waiting for a decision until 2026-01-03 15:10 UTC; approved so far by <@U0BOB>',
    );
  });

  it('ends deployed with the production version', () => {
    const run = awaitingRun({
      state: 'deployed',
      finishedAt: T1,
      approvals: [
        { by: 'U0BOB', at: T1 },
        { by: 'carol', at: T1 },
      ],
      attempts: { ...awaitingRun().attempts, deploy: 1 },
      summaries: { ...awaitingRun().summaries, deploy: { production: 'v3' } },
    });
    const message = runMessage(run);
    expect(headerOf(message)).toBe('✅ #12 churn — deployed');
    const text = allText(message);
    expect(text).toContain('✅ *Approval* — approved by <@U0BOB> and *carol*');
    expect(text).toContain('✅ *Deploy* — production is v3');
    expect(text).toContain('🚀 *churn* v3 is in production since 2026-01-02 15:10 UTC.');
  });

  describe('says what a deploy did to production', () => {
    const deployed = (deploy: unknown, overrides: Partial<RunView> = {}) =>
      allText(
        runMessage(
          runView({
            kind: 'deploy',
            params: { version: 'v4' },
            state: 'deployed',
            finishedAt: T1,
            attempts: { deploy: 1 },
            summaries: { deploy },
            ...overrides,
          }),
        ),
      );

    it('replace: the version is in production', () => {
      const text = deployed({ production: 'v4', strategy: 'replace' });
      expect(text).toContain('🚀 *churn* v4 is in production since 2026-01-02 15:10 UTC.');
      expect(text).toContain('✅ *Deploy* — production is v4');
    });

    it('canary: the share beside production, and the commands that finish or end it', () => {
      const text = deployed({ production: 'v3', strategy: 'canary', candidate: 'v4', percent: 10 });
      expect(text).toContain(
        '🐤 *churn* v4 is a canary on 10% of traffic beside v3 since 2026-01-02 15:10 UTC; ' +
          '`/mlops promote churn` finishes it, `/mlops rollback churn` ends it.',
      );
      expect(text).toContain('✅ *Deploy* — v4 is a 10% canary beside v3');
      expect(text).not.toContain('v3 is in production');
    });

    it('shadow: beside production, answering no one', () => {
      const text = deployed({ production: 'v3', strategy: 'shadow', candidate: 'v4' });
      expect(text).toContain('👥 *churn* v4 runs in shadow beside v3 since 2026-01-02 15:10 UTC');
      expect(text).toContain('`/mlops promote churn` finishes it, `/mlops rollback churn` ends it.');
      expect(text).toContain('✅ *Deploy* — v4 runs in shadow beside v3');
    });

    it('unchanged: what was already serving, and that nothing changed', () => {
      const text = deployed({
        production: 'v3',
        strategy: 'replace',
        unchanged: 'churn v3 is already in production',
      });
      expect(text).toContain('ℹ️ *churn* v3 was already in production; nothing changed.');
      expect(text).toContain('✅ *Deploy* — nothing changed; production is v3');
      expect(text).not.toContain('🚀');
      const canary = deployed({
        production: 'v3',
        strategy: 'canary',
        candidate: 'v4',
        percent: 10,
        unchanged: 'churn v4 is already the 10% canary',
      });
      expect(canary).toContain(
        'ℹ️ *churn* v4 was already a canary on 10% of traffic beside v3; nothing changed.',
      );
    });

    it('a summary from before strategies, or none, still reads', () => {
      expect(deployed({ production: 3 })).toContain('🚀 *churn* v3 is in production');
      expect(deployed({ production: 'v3', strategy: 'blue-green', candidate: 7 })).toContain(
        '🚀 *churn* v3 is in production',
      );
      expect(deployed(undefined, { summaries: {} })).toContain('🚀 *churn* v4 is in production');
      expectWithinLimits(
        runMessage(
          runView({
            pipeline: HUGE_PIPELINE,
            state: 'deployed',
            summaries: { deploy: { production: 'v3', strategy: 'shadow', candidate: 'v4' } },
          }),
        ),
      );
    });
  });

  it('ends rejected with who and why', () => {
    const run = awaitingRun({
      state: 'rejected',
      finishedAt: T1,
      rejection: { by: 'U0CAROL', at: T1, reason: 'recall < 0.7 on the new segment' },
    });
    const text = allText(runMessage(run));
    expect(text).toContain('🚫 *Approval* — rejected by <@U0CAROL>');
    expect(text).toContain(
      '🚫 *Rejected* by <@U0CAROL> at 2026-01-02 15:10 UTC: _recall &lt; 0.7 on the new segment_',
    );
  });

  it('ends expired at the deadline', () => {
    const text = allText(runMessage(awaitingRun({ state: 'expired', finishedAt: DEADLINE })));
    expect(text).toContain('⌛ *Approval* — expired at 2026-01-03 15:10 UTC');
    expect(text).toContain('⌛ *Expired*: nobody decided before 2026-01-03 15:10 UTC');
  });

  it('ends cancelled naming who cancelled when the timeline is given', () => {
    const run = runView({ state: 'cancelled', finishedAt: T1 });
    const timeline: TimelineEntry[] = [
      {
        seq: 9,
        at: T1,
        type: 'run.cancel',
        actor: 'U0DAN',
        via: null,
        from: 'training',
        to: 'cancelled',
        reason: 'wrong data',
        detail: {},
      },
    ];
    const text = allText(runMessage(run, { timeline }));
    expect(text).toContain('⏹️ *Cancelled* by <@U0DAN> at 2026-01-02 15:10 UTC: _wrong data_');
    expect(text).toContain('⏹ Training — stopped');
    expect(allText(runMessage(run))).toContain('⏹️ *Cancelled* at 2026-01-02 15:10 UTC.');
  });

  it('stays within limits for the extreme run in every state', () => {
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
    for (const state of states) {
      const message = runMessage(
        extremeRun({
          state,
          progress: { stage: 'train', attempt: 2, message: LONG_ERROR, fraction: 0.5, at: T0 },
          error: { stage: 'evaluate', attempt: 1, message: LONG_ERROR },
          rejection: { by: 'U0CAROL', at: T1, reason: LONG_ERROR },
        }),
        {
          timeline: [
            {
              seq: 1,
              at: T1,
              type: 'run.cancel',
              actor: 'x'.repeat(500),
              via: null,
              from: 'training',
              to: 'cancelled',
              reason: LONG_ERROR,
              detail: {},
            },
          ],
        },
      );
      expectWithinLimits(message);
      expect(headerOf(message)).toContain(HUGE_PIPELINE.slice(0, 40));
    }
  });

  it('does not crash on odd summaries', () => {
    const run = runView({
      summaries: {
        ingest: 'not an object',
        checks: { passed: 'many', results: [null, 3, { check: 1 }] },
        features: null,
        train: { seconds: Number.NaN, params: [1, 2] },
        evaluate: { metrics: { roc_auc: 'high' }, thresholds: 'none', comparison: { metric: 'x' } },
      },
      progress: {
        stage: 'train',
        attempt: 1,
        message: '',
        fraction: Number.POSITIVE_INFINITY,
        at: 'not a date',
      },
      createdAt: 'yesterday',
    });
    const message = runMessage(run);
    expectWithinLimits(message);
    expect(allText(message)).toContain('✅ *Ingest*');
  });
});
