import { describe, expect, it } from 'vitest';
import { promotedMessage, servingText, unchangedMessage } from '../../../src/bot/views/deployment.ts';
import { historyList } from '../../../src/bot/views/history.ts';
import type { HistoryEntry } from '../../../src/workflows/deployments.ts';
import { allText, expectWithinLimits, HUGE_PIPELINE, T0, T1 } from './fixtures.ts';

function entry(overrides: Partial<HistoryEntry> = {}): HistoryEntry {
  return {
    id: 1,
    action: 'deploy',
    strategy: 'replace',
    version: 3,
    candidate: null,
    canaryPercent: null,
    replaced: null,
    run: 12,
    actor: 'U0ALICE',
    credential: null,
    approvedBy: ['U0BOB'],
    from: T0,
    until: null,
    undoneBy: null,
    ...overrides,
  };
}

describe('historyList', () => {
  it('one line per change, newest first: when, what served, run, who asked and approved, undone', () => {
    const entries = [
      entry({ id: 4, action: 'promote', version: 4, replaced: 3, run: null, actor: 'U0BOB', from: T1 }),
      entry({
        id: 3,
        strategy: 'canary',
        version: 3,
        candidate: 4,
        canaryPercent: 10,
        replaced: 3,
        run: 14,
        until: T1,
      }),
      entry({ id: 2, action: 'rollback', version: 2, replaced: 3, run: 13, until: T1, approvedBy: [] }),
      entry({ id: 1, version: 3, replaced: 2, until: T1, undoneBy: 2 }),
    ];
    const message = historyList('churn', entries);
    const lines = allText(message)
      .split('\n')
      .filter((l) => /^(🚀|⏪|🏁) \d/.test(l));
    expect(lines).toEqual([
      '🏁 2026-01-02 15:10 UTC *promote* v4 · by <@U0BOB> · replaced v3 · *serving now*',
      '🚀 2026-01-02 14:03 UTC *deploy* v3 with v4 as a 10% canary · run #14 · by <@U0ALICE>, approved by <@U0BOB>',
      '⏪ 2026-01-02 14:03 UTC *rollback* v2 · run #13 · by <@U0ALICE> · replaced v3',
      '🚀 2026-01-02 14:03 UTC *deploy* v3 · run #12 · by <@U0ALICE>, approved by <@U0BOB> · replaced v2 · ↩️ undone by a later rollback',
    ]);
    expect(message.text).toBe('Deployment history of churn: 4 changes');
    expect(allText(message)).not.toContain('older ones');
    expectWithinLimits(message);
  });

  it('is bounded, and says when older changes were left out', () => {
    const entries = Array.from({ length: 16 }, (_, i) =>
      entry({ id: 16 - i, version: 16 - i, actor: 'x'.repeat(300) }),
    );
    const message = historyList(HUGE_PIPELINE, entries);
    const text = allText(message);
    expect(text).toContain('v16');
    expect(text).not.toMatch(/\*deploy\* v1 /);
    expect(text).toContain('Only the latest 15 changes are shown; older ones are kept too.');
    expectWithinLimits(message);
  });

  it('with no changes, says how to make the first', () => {
    expect(allText(historyList('churn', []))).toContain(
      '*churn* has no deployments yet. `/mlops deploy churn v&lt;N&gt;` puts a model version in production.',
    );
  });
});

describe('deployment answers', () => {
  it('describe how an alias serves', () => {
    expect(servingText({ production: 3, strategy: 'replace' })).toBe('v3');
    expect(servingText({ production: 3, strategy: 'canary', candidate: 4, percent: 10 })).toBe(
      'v3 with v4 as a 10% canary',
    );
    expect(servingText({ production: 3, strategy: 'shadow', candidate: 4 })).toBe('v3 with v4 in shadow');
  });

  it('a promotion says what is production now and what was before', () => {
    const message = promotedMessage({
      alias: {
        pipeline: 'churn',
        production: 4,
        strategy: 'replace',
        candidate: null,
        canaryPercent: null,
        canaryKey: null,
        description: 'v4',
      },
      by: 'U0BOB',
      before: { production: 3, strategy: 'canary', candidate: 4, percent: 10 },
    });
    expect(message.text).toBe('🏁 churn v4 is now production (was v3 with v4 as a 10% canary)');
    expect(allText(message)).toContain('promoted by <@U0BOB>');
    expectWithinLimits(message);
  });

  it('an unchanged request is escaped as it is told', () => {
    const text = allText(unchangedMessage('churn <v3> is already in production; nothing changed'));
    expect(text).toBe('ℹ️ churn &lt;v3&gt; is already in production; nothing changed');
  });
});
