import type { Button } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { cardFor } from '../../../src/bot/views/approval-card.ts';
import { alertPage, DETAILS_ACTION } from '../../../src/bot/views/drift-alert.ts';
import { DETAILS_LINK_ACTION, modelPath, pageLinks, runPath } from '../../../src/bot/views/links.ts';
import { runMessage } from '../../../src/bot/views/run-message.ts';
import type { AlertEventRow } from '../../../src/db/drift-repo.ts';
import type { AlertView } from '../../../src/workflows/monitoring.ts';
import { awaitingRun, buttonsOf, expectWithinLimits, runView } from './fixtures.ts';

/** The url buttons of a message: what [Details] links to. */
function links(message: { blocks: readonly unknown[] }): { text: string; url: string }[] {
  const out: { text: string; url: string }[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) for (const n of node) walk(n);
    else if (typeof node === 'object' && node !== null) {
      const b = node as Button;
      if (b.type === 'button' && b.url) {
        expect(b.action_id).toBe(DETAILS_LINK_ACTION);
        out.push({ text: b.text.text, url: b.url });
      }
      for (const value of Object.values(node)) walk(value);
    }
  };
  walk(message.blocks);
  return out;
}

const alert: AlertView = {
  id: 'a1',
  number: 4,
  pipeline: 'churn/eu west',
  version: 2,
  channel: '#ml-alerts',
  status: 'firing',
  notified: {},
  notifiedAt: '2026-01-02T10:00:00.000Z',
  snoozedUntil: null,
  snoozedBy: null,
  retrainRun: null,
  retrainState: null,
  resolvedAt: null,
  createdAt: '2026-01-02T10:00:00.000Z',
  lastReport: 'r1',
};
const fired: AlertEventRow = {
  alertId: 'a1',
  seq: 1,
  type: 'fired',
  actor: 'steward',
  reportId: null,
  detail: {},
  createdAt: new Date('2026-01-02T10:00:00.000Z'),
};

describe('[Details] links to the run and model pages', () => {
  it('are relative in the console, absolute under STEWARD_PUBLIC_URL in Slack, and absent in Slack without it', () => {
    expect(pageLinks('console', undefined)(runPath(12))).toBe('/runs/12');
    expect(pageLinks('console', 'https://steward.example.com')(runPath(12))).toBe('/runs/12');
    expect(pageLinks('slack', 'https://steward.example.com/')(runPath(12))).toBe(
      'https://steward.example.com/runs/12',
    );
    expect(pageLinks('slack', undefined)(runPath(12))).toBeUndefined();
    expect(modelPath('churn/eu west')).toBe('/models/churn%2Feu%20west');
  });

  it('put a [Details] link on the run message and on the approval card, before and after the decision', () => {
    const url = 'https://steward.example.com/runs/7';
    const root = runMessage(runView({ number: 7 }), { details: url });
    expect(links(root)).toEqual([{ text: 'Details', url }]);
    expect(links(runMessage(runView({ number: 7 })))).toEqual([]);

    const card = cardFor(awaitingRun({ number: 7 }), { details: url });
    expect(buttonsOf(card).map((b) => b.text)).toEqual(['Approve', 'Reject', 'Details']);
    expect(links(card)).toEqual([{ text: 'Details', url }]);
    const decided = cardFor(runView({ number: 7, state: 'deployed' }), { details: url });
    expect(links(decided)).toEqual([{ text: 'Details', url }]);
    for (const message of [root, card, decided]) expectWithinLimits(message);
  });

  it("make the drift alert's [Details] a link to the model page, and a modal where there is no page to link", () => {
    const linked = alertPage({ alert, event: fired, report: null, latest: true, details: '/models/churn' });
    expect(links(linked)).toEqual([{ text: 'Details', url: '/models/churn' }]);
    expect(buttonsOf(linked).map((b) => b.action_id)).not.toContain(DETAILS_ACTION);
    // An older page has no buttons left to press, but its link still leads to the model.
    const older = alertPage({ alert, event: fired, report: null, latest: false, details: '/models/churn' });
    expect(buttonsOf(older).map((b) => b.text)).toEqual(['Details']);

    const modal = alertPage({ alert, event: fired, report: null, latest: true });
    expect(links(modal)).toEqual([]);
    expect(buttonsOf(modal).map((b) => b.action_id)).toContain(DETAILS_ACTION);
  });
});
