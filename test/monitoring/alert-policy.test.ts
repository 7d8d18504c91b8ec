import { describe, expect, it } from 'vitest';
import { type AlertPolicy, decide, findingOf, type OpenAlert } from '../../src/workflows/alert-policy.ts';

const policy: AlertPolicy = { alertOn: 'column', repeatAfterMs: 24 * 3_600_000 };
const T0 = new Date('2026-12-02T10:00:00Z');
const later = (ms: number) => new Date(T0.getTime() + ms);
const open = (notified: Record<string, number>, extra: Partial<OpenAlert> = {}): OpenAlert => ({
  notified,
  notifiedAt: T0,
  snoozedUntil: null,
  ...extra,
});
const drifting = (columns: Record<string, number>) => ({ drifting: true, columns });
const calm = { drifting: false, columns: {} };

describe('when a drift check pages', () => {
  it('fires on the first drift, and stays silent without one', () => {
    expect(decide(null, drifting({ tenure: 0.3 }), T0, policy)).toEqual({ action: 'fire' });
    expect(decide(null, calm, T0, policy)).toEqual({ action: 'none' });
  });

  it('does not repeat an unchanged alert within repeat_after, and repeats it after', () => {
    const alert = open({ tenure: 0.3 });
    expect(decide(alert, drifting({ tenure: 0.31 }), later(3_600_000), policy)).toEqual({
      action: 'quiet',
      why: 'cooldown',
    });
    expect(decide(alert, drifting({ tenure: 0.3 }), later(24 * 3_600_000), policy)).toEqual({
      action: 'repeat',
    });
  });

  it('pages again at once when it gets worse: a new drifted column, or a statistic up by more than a quarter', () => {
    const alert = open({ tenure: 0.3 });
    expect(decide(alert, drifting({ tenure: 0.3, plan: 0.2 }), later(60_000), policy)).toEqual({
      action: 'worsen',
      newly: ['plan'],
      grown: [],
    });
    expect(decide(alert, drifting({ tenure: 0.38 }), later(60_000), policy)).toEqual({
      action: 'worsen',
      newly: [],
      grown: ['tenure'],
    });
    // 0.375 is exactly a quarter more: not worse.
    expect(decide(alert, drifting({ tenure: 0.375 }), later(60_000), policy).action).toBe('quiet');
    // A column that stopped drifting is not worse.
    expect(
      decide(open({ tenure: 0.3, plan: 0.2 }), drifting({ tenure: 0.3 }), later(60_000), policy).action,
    ).toBe('quiet');
  });

  it('does not resolve when a drifted column goes silent: no data is not recovery', () => {
    const alert = open({ tenure: 0.3 });
    expect(
      decide(alert, { drifting: false, columns: {}, unjudged: ['tenure'] }, later(60_000), policy),
    ).toEqual({
      action: 'quiet',
      why: 'no data',
    });
    // Another column without data does not hold the resolution back.
    expect(
      decide(alert, { drifting: false, columns: {}, unjudged: ['plan'] }, later(60_000), policy).action,
    ).toBe('resolve');
    const report = {
      datasetDrift: false,
      columns: [{ column: 'tenure', drifted: false, score: null, status: 'not_enough_data' }],
    };
    expect(decide(alert, findingOf(report, 'column'), later(60_000), policy).action).toBe('quiet');
  });

  it('resolves when the drift is gone, snoozed or not', () => {
    expect(decide(open({ tenure: 0.3 }), calm, later(60_000), policy)).toEqual({ action: 'resolve' });
    const snoozed = open({ tenure: 0.3 }, { snoozedUntil: later(24 * 3_600_000) });
    expect(decide(snoozed, calm, later(60_000), policy)).toEqual({ action: 'resolve' });
  });

  it('says nothing while snoozed, worse or not, and speaks again when the snooze ends', () => {
    const snoozed = open({ tenure: 0.3 }, { snoozedUntil: later(3_600_000) });
    expect(decide(snoozed, drifting({ tenure: 0.9, plan: 0.4 }), later(60_000), policy)).toEqual({
      action: 'quiet',
      why: 'snoozed',
    });
    expect(decide(snoozed, drifting({ tenure: 0.9 }), later(2 * 3_600_000), policy).action).toBe('worsen');
  });

  it('reads a report as alert_on says: any drifted column, or only dataset drift', () => {
    const report = {
      datasetDrift: false,
      columns: [
        { column: 'tenure', drifted: true, score: 0.4 },
        { column: 'plan', drifted: false, score: 0.01 },
        { column: 'calls', drifted: false, score: null, status: 'not_enough_data' },
      ],
    };
    expect(findingOf(report, 'column')).toEqual({
      drifting: true,
      columns: { tenure: 0.4 },
      unjudged: ['calls'],
    });
    expect(findingOf(report, 'dataset')).toEqual({
      drifting: false,
      columns: { tenure: 0.4 },
      unjudged: ['calls'],
    });
    expect(findingOf({ ...report, datasetDrift: true }, 'dataset').drifting).toBe(true);
  });
});
