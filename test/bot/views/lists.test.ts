import { describe, expect, it } from 'vitest';
import { USAGE, VERBS } from '../../../src/bot/commands/usage.ts';
import {
  helpMessage,
  modelsList,
  pipelinesList,
  refusal,
  runsList,
  whoamiMessage,
} from '../../../src/bot/views/lists.ts';
import {
  allText,
  expectWithinLimits,
  HUGE_PIPELINE,
  LONG_ERROR,
  LONG_PIPELINE,
  manyRuns,
  modelView,
  runView,
} from './fixtures.ts';

describe('lists', () => {
  it('help lists every command of the grammar', () => {
    const message = helpMessage();
    const text = allText(message);
    for (const verb of VERBS)
      expect(text).toContain(`/mlops ${USAGE[verb]}`.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(text).toContain('— start a training run');
    expect(allText(helpMessage({ command: '/steward' }))).toContain('`/steward run &lt;pipeline&gt;');
    expectWithinLimits(message);
  });

  it('runs: newest first, one line each, with how many more', () => {
    const runs = manyRuns(200);
    const message = runsList(runs);
    const text = allText(message);
    expect(message.text).toBe('200 runs');
    expect(text).toContain('*#200*');
    expect(text).toContain('*#181*');
    expect(text).not.toContain('*#180*');
    expect(text).toContain('… and 180 more.');
    expectWithinLimits(message);
    expectWithinLimits(runsList(runs, { limit: 1000 }));
    expect(allText(runsList([runView({ kind: 'rollback', params: { version: 'v2' } })]))).toContain(
      '*#12* churn (rollback to v2) — training',
    );
    expect(allText(runsList([], { pipeline: 'churn' }))).toContain(
      'No runs of churn yet. Start one with `/mlops run churn`.',
    );
  });

  it('models: grouped by pipeline, production first and marked', () => {
    const message = modelsList([
      modelView({ version: 2, production: false, serving: null, traffic: 0 }),
      modelView({ version: 3, production: true }),
      modelView({ pipeline: 'housing', version: 1, metrics: { rmse: 3.2, mae: 2.1, r2: 0.8 } }),
    ]);
    const lines = allText(message)
      .split('\n')
      .filter((l) => l.includes(' v'));
    expect(lines[0]).toMatch(/^⭐ \*churn\* v3 · mlp · roc_auc 0\.910 · run #12/);
    expect(lines[1]).toMatch(/^▫️ \*churn\* v2/);
    expect(lines[2]).toMatch(/^⭐ \*housing\* v1 · mlp · rmse 3\.200/);
    expect(message.text).toBe('3 model versions, 2 in production');
    const many = Array.from({ length: 200 }, (_, i) =>
      modelView({ pipeline: HUGE_PIPELINE, version: i + 1 }),
    );
    expectWithinLimits(modelsList(many, { limit: 500 }));
  });

  it('models: which version serves which share of traffic', () => {
    const message = modelsList([
      modelView({ version: 2, production: false, serving: null, traffic: 0 }),
      modelView({ version: 5, production: false, serving: 'shadow', traffic: 0 }),
      modelView({ version: 4, production: false, serving: 'canary', traffic: 10 }),
      modelView({ version: 3, production: true, serving: 'production', traffic: 90 }),
    ]);
    const lines = allText(message)
      .split('\n')
      .filter((l) => l.includes(' v'));
    expect(lines[0]).toMatch(/^⭐ \*churn\* v3 · 90% of traffic · mlp · roc_auc 0\.910/);
    expect(lines[1]).toMatch(/^🐤 \*churn\* v4 · canary 10% · mlp/);
    expect(lines[2]).toMatch(/^👥 \*churn\* v5 · shadow · mlp/);
    expect(lines[3]).toMatch(/^▫️ \*churn\* v2 · mlp/);
    expect(message.text).toBe('4 model versions, 1 in production, 1 canary, 1 in shadow');
    expect(allText(helpMessage())).toContain('⭐ production, 🐤 canary, 👥 shadow');
  });

  it('pipelines: sorted names', () => {
    const message = pipelinesList(['housing', 'churn']);
    expect(allText(message)).toContain('• *churn*\n• *housing*');
    expectWithinLimits(message);
    expectWithinLimits(pipelinesList(Array.from({ length: 300 }, (_, i) => `${LONG_PIPELINE}${i}`)));
    expect(allText(pipelinesList([]))).toContain('No pipelines yet');
  });

  it('whoami: roles, global first, with what they allow', () => {
    const message = whoamiMessage({
      user: 'U0ANN',
      grants: [
        { pipeline: 'churn', role: 'approver' },
        { pipeline: '*', role: 'operator' },
      ],
    });
    const text = allText(message);
    expect(text).toContain(
      '• operator on *every pipeline* — also start and cancel runs\n• approver on *churn*',
    );
    expect(message.text).toBe('Your roles: operator on every pipeline, approver on churn');
    expect(allText(whoamiMessage({ user: 'U0ANN', grants: [] }))).toContain(
      'grant U0ANN operator &lt;pipeline&gt;',
    );
  });

  it('refusal: the reason escaped, and a hint', () => {
    const message = refusal(
      'You need the approver role on churn to decide run #12.',
      'Ask an admin: `grant <you> approver churn`',
    );
    const text = allText(message);
    expect(text).toContain('🚫 You need the approver role on churn to decide run #12.');
    expect(text).toContain('💡 Ask an admin: `grant &lt;you&gt; approver churn`');
    expectWithinLimits(message);
    expectWithinLimits(refusal(LONG_ERROR, LONG_ERROR));
  });
});
