import { describe, expect, it } from 'vitest';
import type { Intent } from '../../../src/bot/commands/intent.ts';
import {
  CONFIRM_ACTION,
  confirmCard,
  DISMISS_ACTION,
  parseIntentValue,
} from '../../../src/bot/views/confirm-card.ts';
import { allText, buttonsOf, expectWithinLimits, HUGE_PIPELINE, LONG_ERROR } from './fixtures.ts';

function ok(intent: Intent, heard?: string) {
  const card = confirmCard(intent, heard ? { heard } : {});
  if (!card.ok) throw new Error(`expected a card, got: ${card.error}`);
  expectWithinLimits(card);
  return card;
}

describe('confirmCard', () => {
  it('asks to start a run with its params, with Start and Cancel buttons carrying the intent', () => {
    const intent: Intent = { intent: 'start_run', pipeline: 'churn', params: { epochs: '30' } };
    const card = ok(intent, 'retrain churn with 30 epochs');
    const text = allText(card);
    expect(text).toContain('Start a run of *churn* with epochs=30?');
    expect(text).toContain('You wrote: “retrain churn with 30 epochs”');
    expect(card.text).toBe('Start a run of churn with epochs=30?');
    const buttons = buttonsOf(card);
    expect(buttons.map((b) => [b.text, b.action_id])).toEqual([
      ['Start', CONFIRM_ACTION],
      ['Cancel', DISMISS_ACTION],
    ]);
    expect(CONFIRM_ACTION).toBe('intent.confirm');
    expect(DISMISS_ACTION).toBe('intent.dismiss');
    for (const b of buttons) {
      expect(JSON.parse(b.value ?? '')).toEqual(intent);
      expect(parseIntentValue(b.value)).toEqual(intent);
    }
  });

  it('phrases every mutating intent naturally', () => {
    const cases: [Intent, string, string][] = [
      [{ intent: 'start_run', pipeline: 'churn' }, 'Start a run of *churn*?', 'Start'],
      [{ intent: 'approve', run: 12 }, 'Approve run *#12* for deployment?', 'Approve'],
      [
        { intent: 'reject', run: 12, reason: 'AUC dropped' },
        'Reject run *#12*? Reason: _AUC dropped_',
        'Reject',
      ],
      [
        { intent: 'cancel_run', run: 12 },
        'Cancel run *#12*? It stops where it is and deploys nothing.',
        'Cancel the run',
      ],
      [
        { intent: 'deploy', pipeline: 'churn', version: 3 },
        "Deploy *churn* v3, as its spec's deploy strategy says (replace, shadow or canary)?",
        'Deploy',
      ],
      [
        { intent: 'rollback', pipeline: 'churn' },
        'Roll *churn* back, undoing the last change to its production model?',
        'Roll back',
      ],
      [{ intent: 'rollback', pipeline: 'churn', version: 2 }, 'Roll *churn* back to v2?', 'Roll back'],
      [
        { intent: 'promote', pipeline: 'churn' },
        'Promote *churn*: finish its canary or shadow deployment, so the candidate serves all traffic?',
        'Promote',
      ],
    ];
    for (const [intent, question, yes] of cases) {
      const card = ok(intent);
      expect(allText(card)).toContain(question);
      expect(buttonsOf(card)[0]?.text).toBe(yes);
      expect(parseIntentValue(buttonsOf(card)[0]?.value)).toEqual(intent);
    }
  });

  it('refuses intents that change nothing or lack what they need', () => {
    const listRuns = confirmCard({ intent: 'list_runs' });
    expect(listRuns).toEqual({
      ok: false,
      error: '`list_runs` changes nothing, so there is nothing to confirm.',
    });
    const noPipeline = confirmCard({ intent: 'start_run' });
    expect(noPipeline.ok).toBe(false);
    if (!noPipeline.ok) expect(noPipeline.error).toContain('needs a pipeline');
  });

  it('returns an error instead of a card when the intent would not fit a button value', () => {
    const card = confirmCard({ intent: 'reject', run: 12, reason: LONG_ERROR });
    expect(card.ok).toBe(false);
    if (!card.ok) expect(card.error).toContain('too long to confirm with a button');
  });

  it('fits the limits with long names and a long message', () => {
    const card = ok(
      { intent: 'start_run', pipeline: HUGE_PIPELINE, params: { a: 'x'.repeat(1400) } },
      LONG_ERROR,
    );
    expect((buttonsOf(card)[0]?.value ?? '').length).toBeLessThanOrEqual(2000);
  });

  it('does not accept a value that is not a mutating intent', () => {
    expect(parseIntentValue('{"intent":"help"}')).toBeNull();
    expect(parseIntentValue('{"intent":"approve","run":12,"extra":1}')).toBeNull();
    expect(parseIntentValue('nope')).toBeNull();
  });
});
