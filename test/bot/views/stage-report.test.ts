import { describe, expect, it } from 'vitest';
import { stageReport } from '../../../src/bot/views/stage-report.ts';
import { STAGES } from '../../../src/workflows/pipeline-run.machine.ts';
import { allText, awaitingRun, expectWithinLimits, extremeRun, LONG_ERROR, runView } from './fixtures.ts';

describe('stageReport', () => {
  it('ingest: rows, columns, short dataset hash, PII removed', () => {
    const report = stageReport(awaitingRun(), 'ingest');
    const text = allText(report);
    expect(text).toContain('✅ *Ingest* finished for #12 churn');
    expect(text).toContain('*Rows*\n12,345');
    expect(text).toContain('*Columns*\n14');
    expect(text).toContain('*Dataset*\n`a1b2c3d4e5f6`');
    expect(text).toContain('*PII columns removed*\n2');
    expect(report.text).toContain('12,345 rows × 14 columns');
    expectWithinLimits(report);
  });

  it('checks: counts, and the failures listed with column and observed value', () => {
    const run = runView({
      summaries: {
        checks: {
          passed: 1,
          failed: 1,
          results: [
            { check: 'min_rows', column: null, passed: true, observed: '12345' },
            { check: 'max_missing', column: 'charges', passed: false, observed: '12.0%' },
          ],
        },
      },
    });
    const text = allText(stageReport(run, 'checks'));
    expect(text).toContain('1 passed, 1 failed');
    expect(text).toContain('✗ max_missing `charges`: 12.0%');
    expect(text).not.toContain('min_rows');
  });

  it('features: count and what was dropped', () => {
    const text = allText(stageReport(awaitingRun(), 'features'));
    expect(text).toContain('21 features from 12 columns, 1 dropped');
    expect(text).toContain('*Dropped:* id (identifier)');
  });

  it('train: model, rows, seconds, params in brief, best tuning score', () => {
    const text = allText(stageReport(awaitingRun(), 'train'));
    expect(text).toContain('`mlp` on 9,876 rows in 12.3 s');
    expect(text).toContain('*Params:* `epochs=20 hidden=[32,16] learning_rate=0.01`');
    expect(text).toContain('*Tuning:* best roc_auc 0.905 over 12 trials');
  });

  it('evaluate: metrics table, thresholds with ✓/✗ and gap, comparison, CV mean', () => {
    const run = awaitingRun();
    const evaluate = run.summaries.evaluate as Record<string, unknown>;
    run.summaries.evaluate = {
      ...evaluate,
      cv: { folds: 5, mean: { roc_auc: 0.905, accuracy: 0.87 } },
      thresholds: [
        { metric: 'roc_auc', threshold: 0.8, value: 0.912345, passed: true, gap: -0.112345 },
        { metric: 'log_loss', threshold: 0.3, value: 0.31, passed: false, gap: 0.01 },
        { metric: 'rmse', threshold: 1, value: null, passed: false, gap: null },
      ],
    };
    const text = allText(stageReport(run, 'evaluate'));
    expect(text).toMatch(/metric\s+holdout\s+5-fold cv/);
    expect(text).toMatch(/roc_auc\s+0\.912\s+0\.905/);
    expect(text).toMatch(/precision\s+0\.710\s+n\/a/);
    expect(text).toContain('✓ roc_auc 0.912 ≥ 0.800 (margin 0.112)');
    expect(text).toContain('✗ log_loss 0.310, needs ≤ 0.300 (gap 0.010)');
    expect(text).toContain('✗ rmse ≤ 1.000: not measured');
    expect(text).toContain('*vs production v2:* roc_auc 0.912 vs 0.890 (+0.022 ▲ better)');
    expect(text).toContain(
      'holdout 2,469 rows · 5-fold cross-validation on the training rows · registered as v3',
    );
  });

  it('evaluate without a production model says so', () => {
    const run = awaitingRun();
    run.summaries.evaluate = { metrics: { rmse: 3.2 }, champion: null, comparison: null, thresholds: [] };
    expect(allText(stageReport(run, 'evaluate'))).toContain('No model in production yet');
  });

  it('deploy: the production version', () => {
    const text = allText(stageReport(runView({ summaries: { deploy: { production: 'v4' } } }), 'deploy'));
    expect(text).toContain('✅ *Deploy* finished for #12 churn\nproduction is v4');
    const canary = { production: 'v3', strategy: 'canary', candidate: 'v4', percent: 10 };
    expect(allText(stageReport(runView({ summaries: { deploy: canary } }), 'deploy'))).toContain(
      'churn\nv4 is a 10% canary beside v3',
    );
    const unchanged = {
      production: 'v3',
      strategy: 'replace',
      unchanged: 'churn v3 is already in production',
    };
    expect(allText(stageReport(runView({ summaries: { deploy: unchanged } }), 'deploy'))).toContain(
      'churn\nnothing changed; production is v3',
    );
  });

  it('reports the failure of the stage the run failed in', () => {
    const run = runView({
      state: 'failed',
      summaries: {},
      error: { stage: 'checks', attempt: 1, message: LONG_ERROR },
    });
    const report = stageReport(run, 'checks');
    expect(report.text).toContain('❌ Data checks failed for #12 churn (attempt 1): validation failed');
    expect(allText(report)).toContain('&lt;pipeline&gt;');
    expectWithinLimits(report);
  });

  it('stays within limits for every stage of the extreme run, and survives odd summaries', () => {
    for (const stage of STAGES) {
      expectWithinLimits(stageReport(extremeRun(), stage));
      expectWithinLimits(
        stageReport(
          runView({
            summaries: {
              [stage]: {
                metrics: [1],
                results: 'x',
                dropped: [1, null, 'ok'],
                rows: '12',
                params: 'p',
                tuning: 3,
              },
            },
          }),
          stage,
        ),
      );
      expect(stageReport(runView({ summaries: {} }), stage).text).toContain('finished for #12 churn');
    }
    const checks = allText(stageReport(extremeRun(), 'checks'));
    expect(checks).toContain('20 passed, 20 failed');
    expect(checks.match(/✗ max_missing/g)).toHaveLength(20);
    expect(allText(stageReport(extremeRun(), 'features'))).toContain('and 10 more');
  });
});
