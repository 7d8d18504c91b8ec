import { describe, expect, it } from 'vitest';
import {
  INTENT_NAMES,
  Intent,
  isMutating,
  MUTATING_INTENTS,
  requireFields,
} from '../../../src/bot/commands/intent.ts';
import { RUN_STATUSES, STATES_OF_STATUS, toRunStatus } from '../../../src/bot/commands/run-status.ts';

describe('Intent schema', () => {
  it('has the fifteen intents: DESIGN §3’s thirteen, promote and model_history', () => {
    expect([...INTENT_NAMES].sort()).toEqual(
      [
        'start_run',
        'run_status',
        'list_runs',
        'approve',
        'reject',
        'cancel_run',
        'list_pipelines',
        'list_models',
        'model_history',
        'deploy',
        'rollback',
        'promote',
        'drift_report',
        'help',
        'unknown',
      ].sort(),
    );
  });

  it.each([
    { intent: 'help' },
    { intent: 'start_run', pipeline: 'churn', params: { epochs: '30', 'model.lr': '0.1', _x: '' } },
    { intent: 'list_runs', pipeline: 'churn', status: 'failed' },
    { intent: 'reject', run: 12, reason: 'AUC too low' },
    { intent: 'deploy', pipeline: 'churn', version: 3 },
  ])('accepts %j', (value) => {
    expect(Intent.parse(value)).toEqual(value);
  });

  it.each([
    ['an unknown intent', { intent: 'delete_everything' }],
    ['a run given as words', { intent: 'approve', run: 'twelve' }],
    ['a run given as a numeric string', { intent: 'approve', run: '12' }],
    ['run 0', { intent: 'approve', run: 0 }],
    ['a negative run', { intent: 'approve', run: -3 }],
    ['a fractional version', { intent: 'deploy', pipeline: 'churn', version: 1.5 }],
    ['an extra key', { intent: 'help', command: 'rm -rf /' }],
    ['an empty pipeline', { intent: 'drift_report', pipeline: '' }],
    ['a param key that is not a name', { intent: 'start_run', pipeline: 'churn', params: { '1x': '2' } }],
    ['a non-string param value', { intent: 'start_run', pipeline: 'churn', params: { epochs: 30 } }],
    ['no intent at all', { pipeline: 'churn' }],
  ])('refuses %s', (_name, value) => {
    expect(Intent.safeParse(value).success).toBe(false);
  });
});

describe('mutating intents', () => {
  it('are exactly the seven that change something (a history is only read)', () => {
    expect([...MUTATING_INTENTS].sort()).toEqual(
      ['approve', 'cancel_run', 'deploy', 'promote', 'reject', 'rollback', 'start_run'].sort(),
    );
    expect(isMutating('model_history')).toBe(false);
  });

  it('isMutating takes a name or an intent', () => {
    for (const name of INTENT_NAMES) {
      const expected = (MUTATING_INTENTS as readonly string[]).includes(name);
      expect(isMutating(name)).toBe(expected);
      expect(isMutating({ intent: name })).toBe(expected);
    }
  });
});

describe('requireFields', () => {
  it.each([
    [{ intent: 'start_run' }, 'a pipeline'],
    [{ intent: 'approve' }, 'a run number'],
    [{ intent: 'reject', reason: 'bad' }, 'a run number'],
    [{ intent: 'cancel_run' }, 'a run number'],
    [{ intent: 'deploy' }, 'a pipeline and a version'],
    [{ intent: 'deploy', pipeline: 'churn' }, 'a version'],
    [{ intent: 'deploy', version: 3 }, 'a pipeline'],
    [{ intent: 'rollback', version: 2 }, 'a pipeline'],
    [{ intent: 'promote' }, 'a pipeline'],
    [{ intent: 'model_history' }, 'a pipeline'],
    [{ intent: 'run_status' }, 'a run number'],
    [{ intent: 'drift_report' }, 'a pipeline'],
  ] satisfies [Intent, string][])('%j becomes unknown: needs %s', (intent, missing) => {
    const result = requireFields(intent);
    expect(result.intent).toBe('unknown');
    expect(result.reason).toContain(`\`${intent.intent}\` needs ${missing}, e.g.`);
    expect(Object.keys(result).sort()).toEqual(['intent', 'reason']);
    expect(Intent.safeParse(result).success).toBe(true);
  });

  it.each([
    { intent: 'start_run', pipeline: 'churn' },
    { intent: 'approve', run: 1 },
    { intent: 'deploy', pipeline: 'churn', version: 3 },
    { intent: 'rollback', pipeline: 'churn' },
    { intent: 'promote', pipeline: 'churn' },
    { intent: 'model_history', pipeline: 'churn' },
    { intent: 'list_runs' },
    { intent: 'list_models' },
    { intent: 'help' },
    { intent: 'unknown' },
  ] satisfies Intent[])('leaves %j as it is', (intent) => {
    expect(requireFields(intent)).toBe(intent);
  });

  it('no mutating intent with all its fields absent survives', () => {
    for (const name of MUTATING_INTENTS) expect(requireFields({ intent: name }).intent).toBe('unknown');
  });
});

describe('run statuses', () => {
  it('map synonyms and case to the canonical word', () => {
    expect(toRunStatus('FAILED')).toBe('failed');
    expect(toRunStatus('pending')).toBe('awaiting_approval');
    expect(toRunStatus('canceled')).toBe('cancelled');
    expect(toRunStatus('active')).toBe('running');
    expect(toRunStatus('churn')).toBeUndefined();
  });

  it('each selects at least one machine state, and no state twice', () => {
    const states = RUN_STATUSES.flatMap((status) => STATES_OF_STATUS[status]);
    expect(states.length).toBeGreaterThanOrEqual(RUN_STATUSES.length);
    expect(new Set(states).size).toBe(states.length);
  });
});
