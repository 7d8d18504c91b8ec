import { describe, expect, it } from 'vitest';
import {
  type Command,
  hasIntent,
  isMutatingCommand,
  parseCommand,
  toIntent,
  USAGE,
  usage,
  VERBS,
} from '../../../src/bot/commands/grammar.ts';
import { Intent, isMutating } from '../../../src/bot/commands/intent.ts';

const pipelines = ['churn', 'housing', 'fraud-detection'];
const parse = (text: string) => parseCommand(text, { pipelines });

function command(text: string): Command {
  const result = parse(text);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${result.error}`);
  return result.command;
}

function error(text: string): string {
  const result = parse(text);
  if (result.ok)
    throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result.command)}`);
  return result.error;
}

describe('parseCommand: commands', () => {
  it.each<[string, Command]>([
    ['', { verb: 'help' }],
    ['   ', { verb: 'help' }],
    ['help', { verb: 'help' }],
    ['help deploy', { verb: 'help', topic: 'deploy' }],
    ['?', { verb: 'help' }],
    ['pipelines', { verb: 'pipelines' }],
    ['run churn', { verb: 'run', pipeline: 'churn', params: {} }],
    [
      'run churn epochs=30 model.lr=0.01 _seed=7 learning-rate=1e-3',
      {
        verb: 'run',
        pipeline: 'churn',
        params: { epochs: '30', 'model.lr': '0.01', _seed: '7', 'learning-rate': '1e-3' },
      },
    ],
    [
      'run churn note="two words" empty=""',
      { verb: 'run', pipeline: 'churn', params: { note: 'two words', empty: '' } },
    ],
    ['run churn query=a=b', { verb: 'run', pipeline: 'churn', params: { query: 'a=b' } }],
    ['retrain housing', { verb: 'run', pipeline: 'housing', params: {} }],
    ['RUN Churn', { verb: 'run', pipeline: 'churn', params: {} }],
    ['run fraud-detection', { verb: 'run', pipeline: 'fraud-detection', params: {} }],
    ['runs', { verb: 'runs' }],
    ['runs churn', { verb: 'runs', pipeline: 'churn' }],
    ['runs failed', { verb: 'runs', status: 'failed' }],
    ['runs churn failed', { verb: 'runs', pipeline: 'churn', status: 'failed' }],
    ['runs pending churn', { verb: 'runs', pipeline: 'churn', status: 'awaiting_approval' }],
    ['status 12', { verb: 'status', run: 12 }],
    ['status #12', { verb: 'status', run: 12 }],
    ['show #3', { verb: 'status', run: 3 }],
    ['approve #12', { verb: 'approve', run: 12 }],
    ['reject 12', { verb: 'reject', run: 12 }],
    ['reject 12 AUC too low', { verb: 'reject', run: 12, reason: 'AUC too low' }],
    ['reject 12 "AUC too low"', { verb: 'reject', run: 12, reason: 'AUC too low' }],
    ['reject #12 \u201CAUC too low\u201D', { verb: 'reject', run: 12, reason: 'AUC too low' }],
    ['reject 12 AUC &lt; 0.8 &amp; falling', { verb: 'reject', run: 12, reason: 'AUC < 0.8 & falling' }],
    ['cancel 7', { verb: 'cancel', run: 7 }],
    ['models', { verb: 'models' }],
    ['models housing', { verb: 'models', pipeline: 'housing' }],
    ['deploy churn v3', { verb: 'deploy', pipeline: 'churn', version: 3 }],
    ['deploy churn V3', { verb: 'deploy', pipeline: 'churn', version: 3 }],
    ['deploy churn 3', { verb: 'deploy', pipeline: 'churn', version: 3 }],
    ['rollback churn', { verb: 'rollback', pipeline: 'churn' }],
    ['rollback churn v2', { verb: 'rollback', pipeline: 'churn', version: 2 }],
    ['roll-back churn', { verb: 'rollback', pipeline: 'churn' }],
    ['rollback churn --to v2', { verb: 'rollback', pipeline: 'churn', version: 2 }],
    ['rollback churn to v2', { verb: 'rollback', pipeline: 'churn', version: 2 }],
    ['rollback churn --to=v2', { verb: 'rollback', pipeline: 'churn', version: 2 }],
    ['rollback churn \u2014to v2', { verb: 'rollback', pipeline: 'churn', version: 2 }],
    ['rollback churn TO 2', { verb: 'rollback', pipeline: 'churn', version: 2 }],
    ['promote churn', { verb: 'promote', pipeline: 'churn' }],
    ['PROMOTE Churn', { verb: 'promote', pipeline: 'churn' }],
    ['history churn', { verb: 'history', pipeline: 'churn' }],
    ['help promote', { verb: 'help', topic: 'promote' }],
    ['drift housing', { verb: 'drift', pipeline: 'housing' }],
    ['grant <@U123ABC> approver', { verb: 'grant', userId: 'U123ABC', role: 'approver' }],
    [
      'grant <@U123ABC|ada> Admin churn',
      { verb: 'grant', userId: 'U123ABC', role: 'admin', pipeline: 'churn' },
    ],
    [
      'grant <@W0ENTERPRISE|Ada Lovelace> operator churn',
      { verb: 'grant', userId: 'W0ENTERPRISE', role: 'operator', pipeline: 'churn' },
    ],
    ['revoke <@U123ABC>', { verb: 'revoke', userId: 'U123ABC' }],
    ['revoke <@U123ABC|ada> housing', { verb: 'revoke', userId: 'U123ABC', pipeline: 'housing' }],
    ['whoami', { verb: 'whoami' }],
    ['  status\t 12  ', { verb: 'status', run: 12 }],
  ])('%j', (text, expected) => {
    expect(command(text)).toEqual(expected);
  });
});

describe('parseCommand: mistakes say what to type', () => {
  it.each([
    ['rn churn', 'no command `rn` — did you mean `run`? (`/mlops run <pipeline> [key=value …]`)'],
    ['aprove 12', 'no command `aprove` — did you mean `approve`?'],
    ['rollbak churn', 'did you mean `rollback`?'],
    ['xyzzy', 'no command `xyzzy` — try `/mlops help`'],
    ['churn', 'no command `churn` — did you mean `/mlops run churn`?'],
    ['#12', 'no command `#12` — did you mean `/mlops status 12`?'],
    ['help frobnicate', 'no command `frobnicate`'],
    ['run', 'the pipeline is missing — usage: `/mlops run <pipeline> [key=value …]`'],
    ['run chrn', 'no pipeline `chrn` — did you mean `churn`?'],
    ['run zzz', 'no pipeline `zzz` — known pipelines: `churn`, `housing`, `fraud-detection`'],
    ['run churn fast', '`fast` is not a key=value parameter — usage: `/mlops run <pipeline> [key=value …]`'],
    ['run churn 1x=2', '`1x` is not a parameter name'],
    ['run churn =2', '`` is not a parameter name'],
    ['run churn epochs=', '`epochs=` has no value (write `epochs=<value>`)'],
    ['run churn epochs=1 epochs=2', '`epochs` is given twice'],
    ['run churn note="unclosed', 'a `"` is not closed'],
    ['status', 'the run number is missing — usage: `/mlops status <run>`'],
    ['status twelve', '`twelve` is not a run number (write `12` or `#12`) — usage: `/mlops status <run>`'],
    ['status 0', 'run numbers start at 1'],
    ['status 99999999999999999999', '`99999999999999999999` is too large — usage: `/mlops status <run>`'],
    ['status 12 13', 'unexpected `13` — usage: `/mlops status <run>`'],
    ['approve', 'usage: `/mlops approve <run>`'],
    ['approve 12 now', 'unexpected `now`'],
    ['cancel -1', '`-1` is not a run number'],
    ['reject', 'usage: `/mlops reject <run> [reason …]`'],
    ['deploy churn', 'the version is missing — usage: `/mlops deploy <pipeline> v<N>`'],
    ['deploy churn latest', '`latest` is not a version (write `v3`)'],
    ['deploy churn v0', 'versions start at 1'],
    ['deploy housng v2', 'no pipeline `housng` — did you mean `housing`?'],
    ['rollback', 'usage: `/mlops rollback <pipeline> [v<N>]`'],
    ['rollback churn --to', 'the version after `to` is missing — usage: `/mlops rollback <pipeline> [v<N>]`'],
    ['rollback churn to latest', '`latest` is not a version (write `v3`)'],
    ['rollback churn --to v2 v3', 'unexpected `v3`'],
    ['promote', 'the pipeline is missing — usage: `/mlops promote <pipeline>`'],
    ['promote churn v4', 'unexpected `v4` — usage: `/mlops promote <pipeline>`'],
    ['promote chrun', 'did you mean `churn`?'],
    ['history', 'the pipeline is missing — usage: `/mlops history <pipeline>`'],
    ['history churn 50', 'unexpected `50` — usage: `/mlops history <pipeline>`'],
    ['promot churn', 'did you mean `promote`?'],
    ['rollback churn v2 v3', 'unexpected `v3`'],
    ['drift', 'usage: `/mlops drift <pipeline>`'],
    ['models chun', 'did you mean `churn`?'],
    ['runs faild', 'no status `faild` — did you mean `failed`?'],
    ['runs chrn', 'no pipeline `chrn` — did you mean `churn`?'],
    ['runs zzzzzzz', '`zzzzzzz` is neither a pipeline nor a status (pipelines: `churn`'],
    ['runs churn housing', 'no status `housing` (statuses: `queued`'],
    ['runs churn failed extra', 'unexpected `extra`'],
    ['pipelines all', 'unexpected `all` — usage: `/mlops pipelines`'],
    ['grant', 'the user is missing — usage: `/mlops grant @user <role> [pipeline]`'],
    ['grant @ada approver', '`@ada` is not a mention Slack resolved: pick the person from the @ menu'],
    ['grant ada approver', '`ada` is not a user'],
    ['grant <@U1> aprover', 'no role `aprover` — did you mean `approver`?'],
    ['grant <@U1> superuser', 'no role `superuser` (roles: viewer, operator, approver, admin)'],
    ['grant <@U1>', 'the role is missing'],
    ['grant <@U1> admin nope', 'no pipeline `nope`'],
    ['revoke <@U1> churn more', 'unexpected `more`'],
    ['whoami please', 'unexpected `please`'],
  ])('%j', (text, expected) => {
    expect(error(text)).toContain(expected);
  });

  it('with no pipelines at all, says so', () => {
    const result = parseCommand('run churn', { pipelines: [] });
    expect(result).toEqual({
      ok: false,
      error: 'no pipeline `churn` — there are no pipelines yet; add a spec to `pipelines/`',
    });
  });

  it('quotes the slash command the app registered', () => {
    const result = parseCommand('status', { pipelines, slash: '/steward' });
    expect(result).toEqual({
      ok: false,
      error: 'the run number is missing — usage: `/steward status <run>`',
    });
  });

  it('never throws, whatever it is given', () => {
    const samples = [
      '"',
      '""',
      '<@>',
      '<@U1',
      '#',
      'v',
      '=',
      '==',
      'run "" x',
      '\u0000',
      'run churn "a"="b"',
    ];
    for (const text of samples) expect(() => parse(text)).not.toThrow();
  });
});

describe('usage', () => {
  it('has a line for every verb, starting with the verb', () => {
    for (const verb of VERBS) {
      expect(USAGE[verb].split(' ')[0]).toBe(verb);
      expect(usage(verb)).toBe(`usage: \`/mlops ${USAGE[verb]}\``);
    }
  });
});

describe('toIntent', () => {
  it.each<[string, Intent]>([
    ['help', { intent: 'help' }],
    ['pipelines', { intent: 'list_pipelines' }],
    ['run churn', { intent: 'start_run', pipeline: 'churn' }],
    ['run churn epochs=30', { intent: 'start_run', pipeline: 'churn', params: { epochs: '30' } }],
    ['runs', { intent: 'list_runs' }],
    ['runs churn failed', { intent: 'list_runs', pipeline: 'churn', status: 'failed' }],
    ['status #4', { intent: 'run_status', run: 4 }],
    ['approve 4', { intent: 'approve', run: 4 }],
    ['reject 4', { intent: 'reject', run: 4 }],
    ['reject 4 "too slow"', { intent: 'reject', run: 4, reason: 'too slow' }],
    ['cancel 4', { intent: 'cancel_run', run: 4 }],
    ['models', { intent: 'list_models' }],
    ['models churn', { intent: 'list_models', pipeline: 'churn' }],
    ['deploy churn v3', { intent: 'deploy', pipeline: 'churn', version: 3 }],
    ['rollback churn', { intent: 'rollback', pipeline: 'churn' }],
    ['rollback churn v2', { intent: 'rollback', pipeline: 'churn', version: 2 }],
    ['rollback churn --to v2', { intent: 'rollback', pipeline: 'churn', version: 2 }],
    ['promote churn', { intent: 'promote', pipeline: 'churn' }],
    ['history churn', { intent: 'model_history', pipeline: 'churn' }],
    ['drift churn', { intent: 'drift_report', pipeline: 'churn' }],
  ])('%j', (text, expected) => {
    const parsed = command(text);
    if (!hasIntent(parsed)) throw new Error(`${text} has no intent`);
    const intent = toIntent(parsed);
    expect(intent).toStrictEqual(expected);
    expect(Intent.parse(intent)).toStrictEqual(intent);
  });

  it('grant, revoke and whoami have none', () => {
    for (const text of ['grant <@U1> admin', 'revoke <@U1>', 'whoami'])
      expect(hasIntent(command(text))).toBe(false);
  });
});

describe('isMutatingCommand (read from the first word, before the ack)', () => {
  it.each([
    'run churn',
    'retrain churn',
    'approve 4',
    'reject 4 "too slow"',
    'cancel #4',
    'deploy churn v3',
    'rollback churn',
    'roll-back churn',
    'promote churn',
    'Promote churn',
    'grant <@U1> admin',
    'revoke <@U1>',
    '  APPROVE 4',
    '\u201Capprove\u201D 4',
  ])('%j changes something', (text) => {
    expect(isMutatingCommand(text)).toBe(true);
  });

  it.each([
    '',
    'help',
    '?',
    'help approve',
    'pipelines',
    'runs',
    'runs churn failed',
    'status 4',
    'show 4',
    'models',
    'drift churn',
    'history churn',
    'whoami',
    'aprove 4',
    'churn',
    'constructor',
    '"',
  ])('%j does not', (text) => {
    expect(isMutatingCommand(text)).toBe(false);
  });

  it('agrees with the intent of every command that parses', () => {
    for (const text of [
      'help',
      'pipelines',
      'run churn',
      'runs',
      'status 4',
      'approve 4',
      'reject 4',
      'cancel 4',
      'models',
      'deploy churn v3',
      'rollback churn',
      'promote churn',
      'history churn',
      'drift churn',
    ]) {
      const parsed = command(text);
      if (!hasIntent(parsed)) throw new Error(`${text} has no intent`);
      expect(isMutatingCommand(text), text).toBe(isMutating(toIntent(parsed)));
    }
  });
});
