import { describe, expect, it } from 'vitest';
import { describeIssues, PipelineSpec } from '../src/stages/spec.ts';

const base = {
  name: 'churn',
  task: 'classification',
  source: { type: 'synthetic' },
  target: 'churned',
  model: { type: 'logistic' },
};
const problems = (extra: Record<string, unknown>) => {
  const parsed = PipelineSpec.safeParse({ ...base, ...extra });
  return parsed.success ? [] : describeIssues(parsed.error);
};

describe('the deploy and monitoring sections of a spec', () => {
  it('default to replace, every row logged, kept 30 days', () => {
    const spec = PipelineSpec.parse(base);
    expect(spec.deploy).toEqual({ strategy: 'replace', canary_percent: 10 });
    expect(spec.monitoring).toMatchObject({ sample_rate: 1, retention: 30 * 86_400_000 });
  });

  it('read a canary with its key, and a sampled log with a retention', () => {
    const spec = PipelineSpec.parse({
      ...base,
      deploy: { strategy: 'canary', canary_percent: 25, canary_key: 'header:X-Customer-Id' },
      monitoring: { sample_rate: 0.1, retention: '7d', schedule: '*/15 * * * *' },
    });
    expect(spec.deploy).toEqual({
      strategy: 'canary',
      canary_percent: 25,
      canary_key: 'header:X-Customer-Id',
    });
    expect(spec.monitoring).toMatchObject({
      sample_rate: 0.1,
      retention: 7 * 86_400_000,
      schedule: '*/15 * * * *',
    });
  });

  it('name every mistake with its path and what to write instead', () => {
    expect(
      problems({
        deploy: { strategy: 'blue-green', canary_percent: 100, canary_key: 'header:' },
        monitoring: { sample_rate: 2, retention: '5m' },
      }),
    ).toEqual([
      expect.stringMatching(/^deploy\.strategy: .*replace.*shadow.*canary/),
      'deploy.canary_percent: a percentage above 0 and below 100 (got 100)',
      expect.stringMatching(/^deploy\.canary_key: a request field such as customer_id, or header:<name>/),
      'monitoring.sample_rate: a share between 0 and 1 (got 2)',
      'monitoring.retention: must be at least 1h',
    ]);
    expect(problems({ deploy: { strategy: 'canary', percent: 5 } })).toEqual([
      expect.stringMatching(/^deploy: Unrecognized key: "percent"/),
    ]);
  });
});
