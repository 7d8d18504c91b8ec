import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DEMO_CAST } from '../src/cli/demo/demo.ts';
import { createProgress, type ProgressSink } from '../src/cli/demo/progress.ts';
import { DEMO_STEPS, type DemoContext, type DemoStep } from '../src/cli/demo/steps.ts';
import { sendTraffic, trafficFrom } from '../src/cli/demo/traffic.ts';
import { main } from '../src/cli.ts';
import { parseSpec } from '../src/stages/catalog.ts';
import { eventually, kill, spawnNode } from './helpers/processes.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));

/** What a demo in this process printed, and its exit code. */
async function demoInProcess(options: { steps?: DemoStep[]; cast?: typeof DEMO_CAST }) {
  const { demoCommand } = await import('../src/cli/demo/demo.ts');
  const out: string[] = [];
  const err: string[] = [];
  const code = await demoCommand({
    open: false,
    port: 0,
    io: { out: (l) => out.push(l), err: (l) => err.push(l) },
    env: { STEWARD_LOG_LEVEL: 'silent' },
    ...options,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Indexes of each pattern in `text`, each searched after the previous one; -1 when missing. */
function inOrder(text: string, patterns: RegExp[]): number[] {
  let from = 0;
  return patterns.map((pattern) => {
    const match = pattern.exec(text.slice(from));
    if (!match) return -1;
    from += match.index + match[0].length;
    return from;
  });
}

describe('steward demo', () => {
  it('plays the whole loop as a child process on a non-terminal, whatever DATABASE_URL says, and exits 0', async () => {
    const proc = spawnNode(
      ['bin/steward.js', 'demo'],
      {
        ...process.env,
        // Set (CI's PostgreSQL, or one that is not there): the demo uses its own embedded database.
        DATABASE_URL: process.env.DATABASE_URL || 'postgres://nobody@127.0.0.1:1/nothing',
        STEWARD_LOG_LEVEL: 'warn',
      },
      'demo',
      REPO,
    );
    const code = await proc.exited;
    const output = proc.output();
    expect(code, output).toBe(0);
    const steps = [
      /\[0\/9\] ok http:\/\/localhost:\d+ \(embedded database in /,
      /\[1\/9\] ok ana started #1; it trained gradient_boosting v1 \(roc_auc 0\.\d+/,
      /\[2\/9\] ok #1 awaits approval; its card with \[Approve\] is in #ml-ops/,
      /\[3\/9\] ok ben approved #1, requested by ana/,
      /\[4\/9\] ok subscriptions v1 serves POST \/v1\/models\/subscriptions\/predict/,
      /\[5\/9\] ok 500 predictions from v1/,
      /\[6\/9\] ok source\.drift 0 → 1; 500 predictions on drifted rows/,
      /\[7\/9\] ok drift alert #1 in #ml-alerts: .+ drifted/,
      /\[8\/9\] ok vic \(viewer\) was refused; ana \(operator\) started #2/,
      /\[9\/9\] ok #2 awaits approval, started by drift alert #1/,
      /step +time +what happened/,
      /\[7\/9\] alert +\d+\.\d s +drift alert #1/,
      /total +\d+\.\d s/,
    ];
    expect(inOrder(output, steps).map((at, i) => (at < 0 ? String(steps[i]) : 'found'))).toEqual(
      steps.map(() => 'found'),
    );
    // The viewer was told why, in the console.
    expect(output).toMatch(/vic refused: .*operator role on subscriptions to retrain it \(you are viewer\)/);
    // Not a terminal: plain lines, no spinner, no colour.
    expect(output).not.toContain('\r');
    expect(output).not.toContain('\x1b[');
    // Its temporary directory is gone with it.
    const dir = /embedded database in (\S+)\)/.exec(output)?.[1] ?? '';
    expect(dir.startsWith(os.tmpdir())).toBe(true);
    expect(fs.existsSync(dir)).toBe(false);
  }, 180_000);

  it('with --open, keeps serving the story, prints the start URL first, and stops cleanly on Ctrl-C', async () => {
    const proc = spawnNode(
      ['bin/steward.js', 'demo', '--open'],
      { ...process.env, DATABASE_URL: '' },
      'demo',
      REPO,
    );
    await eventually(async () => proc.output().includes('Ctrl-C stops it'), 150_000, 'the demo to finish');
    const output = proc.output();
    const urls = inOrder(output, [
      /Open (http:\/\/localhost:\d+)\/\?token=<the contents of (\S+)> in a browser\./,
      /Run #1: http:\/\/localhost:\d+\/runs\/1\n/,
      /Run #2: http:\/\/localhost:\d+\/runs\/2\n/,
      /Model subscriptions: http:\/\/localhost:\d+\/models\/subscriptions\n/,
    ]);
    expect(
      urls.every((at) => at > 0),
      output,
    ).toBe(true);
    const [, base, secretFile] = /Open (\S+)\/\?token=<the contents of (\S+)>/.exec(output) ?? [];
    // The start URL makes a session in the console, which plays the demo team.
    const secret = fs.readFileSync(String(secretFile), 'utf8').trim();
    const signIn = await fetch(`${base}/?token=${secret}`, { redirect: 'manual' });
    expect(signIn.status).toBe(303);
    const cookie = String(signIn.headers.get('set-cookie')).split(';')[0] ?? '';
    const state = (await (await fetch(`${base}/api/console/state`, { headers: { cookie } })).json()) as {
      personas: { id: string }[] | null;
      messages: { channel: string }[];
    };
    expect(state.personas?.map((p) => p.id)).toEqual(['ana', 'ben', 'vic', 'local']);
    expect(state.messages.some((m) => m.channel === '#ml-alerts')).toBe(true);
    expect(await kill(proc, 'SIGINT')).toBe(0);
    expect(fs.existsSync(path.dirname(path.dirname(String(secretFile))))).toBe(false);
  }, 180_000);

  it('fails at the approval when the approver is the requester (four eyes), naming the step and why', async () => {
    const result = await demoInProcess({ cast: { ...DEMO_CAST, requester: 'ben', approver: 'ben' } });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(
      /\[3\/9\] FAILED .*as ben was refused .*someone else must approve or reject it \(four eyes\)/,
    );
    expect(result.err).toMatch(/steward demo failed at step \[3\/9\] approve: /);
    expect(result.out).not.toMatch(/\[4\/9\]/);
  }, 120_000);

  it('fails at the alert when the traffic never drifts: no alert is faked', async () => {
    // The drift step without its switch: the same source, more of its undrifted rows.
    const steps = DEMO_STEPS.map(
      (step): DemoStep =>
        step.name !== 'drift'
          ? step
          : {
              ...step,
              async run(ctx: DemoContext) {
                const spec = parseSpec(fs.readFileSync(ctx.specFile, 'utf8'), ctx.specFile);
                const rows = trafficFrom(spec, spec.monitoring.window, 2002);
                await sendTraffic(ctx.client.base, ctx.pipeline, rows, () => {});
                return `${rows.length} more predictions on undrifted rows`;
              },
            },
    );
    const result = await demoInProcess({ steps });
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/\[6\/9\] ok 500 more predictions on undrifted rows/);
    expect(result.out).toMatch(/\[7\/9\] FAILED .*found no drifted feature, so no alert was raised/);
    expect(result.err).toMatch(/steward demo failed at step \[7\/9\] alert: /);
    expect(result.out).not.toMatch(/\[8\/9\]/);
  }, 120_000);

  it('is in the usage text', async () => {
    const out: string[] = [];
    expect(await main(['--help'], {}, { out: (l) => out.push(l), err: () => {} }, {})).toBe(0);
    expect(out.join('\n')).toMatch(/steward demo +play the whole loop .*\n.*--open.*--port N/);
  });
});

describe('the demo’s progress display', () => {
  function sink(isTTY: boolean): ProgressSink & { text(): string } {
    const chunks: string[] = [];
    return { isTTY, columns: 60, write: (t) => void chunks.push(t), text: () => chunks.join('') };
  }
  const clock = () => {
    let t = 0;
    return {
      now: () => t,
      advance(ms: number) {
        t += ms;
      },
    };
  };

  it('writes plain lines when not on a terminal: each change once, no escape codes', () => {
    const s = sink(false);
    const c = clock();
    const progress = createProgress({ sink: s, now: c.now, env: {} });
    progress.start('[1/2]', 'train');
    progress.update('#1 training');
    progress.update('#1 training');
    c.advance(1500);
    expect(progress.done('v1 trained')).toBe(1500);
    progress.start('[2/2]', 'deploy');
    progress.fail('#1 ended failed');
    expect(s.text()).toBe(
      '[1/2] train\n      #1 training\n[1/2] ok v1 trained (1.5 s)\n[2/2] deploy\n[2/2] FAILED #1 ended failed (0.0 s)\n',
    );
  });

  it('on a terminal, redraws one spinner line in place and ends it with a coloured mark', () => {
    const s = sink(true);
    const c = clock();
    const progress = createProgress({ sink: s, now: c.now, env: {}, frameMs: 60_000 });
    progress.start('[1/2]', 'train');
    progress.update('#1 training');
    c.advance(2000);
    progress.done('v1 trained');
    progress.start('[2/2]', 'deploy');
    progress.fail('refused');
    const text = s.text();
    expect(text).toContain('\r\x1b[2K\x1b[36m⠋\x1b[0m [1/2] train');
    expect(text).toContain('\x1b[2m · #1 training\x1b[0m');
    expect(text).toContain('\r\x1b[2K\x1b[32m✔\x1b[0m [1/2] train: v1 trained \x1b[2m(2.0 s)\x1b[0m\n');
    expect(text).toContain('\x1b[31m✖\x1b[0m [2/2] deploy: refused');
    // Ended steps are whole lines; the running one was only ever redrawn.
    expect(text.split('\n').filter(Boolean)).toHaveLength(2);
  });

  it('keeps the spinner line within the terminal’s width, so redrawing it never wraps', () => {
    const s = sink(true);
    const progress = createProgress({ sink: s, env: {}, frameMs: 60_000 });
    progress.start('[1/1]', 'a step');
    progress.update('x'.repeat(200));
    const last = s.text().split('\r\x1b[2K').at(-1) ?? '';
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping the colour codes
    expect(last.replace(/\x1b\[\d+m/g, '').length).toBeLessThan(60);
    progress.stop();
  });

  it('leaves colour out when NO_COLOR is set, on a terminal too', () => {
    const s = sink(true);
    const progress = createProgress({ sink: s, env: { NO_COLOR: '1' }, frameMs: 60_000 });
    progress.start('[1/1]', 'train');
    progress.done('ok');
    expect(s.text()).toContain('\r\x1b[2K✔ [1/1] train: ok (');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for colour codes
    expect(s.text()).not.toMatch(/\x1b\[\d+m/);
  });
});
