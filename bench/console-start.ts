/**
 * Time from `npm start` to a usable console, on a fresh data dir each time: the process
 * starts (`node bin/steward.js start`, as `npm start` runs it), says it is up, and Chromium
 * opens the start URL until the console has painted its channel list. Beside it, in the
 * same run, the same steps with `STEWARD_CONSOLE=off` (the status page at `/`), and a bare
 * `node -e ''` start, so the figures can be read against this machine's speed.
 *
 *   npx tsx bench/console-start.ts [--runs N]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readLock } from '../src/db/lock.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

type Sample = { upMs: number; paintMs: number; totalMs: number };

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function once(
  consoleMode: 'demo' | 'off',
  browser: Awaited<ReturnType<typeof chromium.launch>>,
): Promise<Sample> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-'));
  const dataDir = path.join(dir, 'data');
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['bin/steward.js', 'start'], {
    cwd: REPO,
    env: {
      ...process.env,
      DATABASE_URL: '',
      STEWARD_DATA_DIR: dataDir,
      PORT: '0',
      STEWARD_CONSOLE: consoleMode,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  try {
    await waitFor(() => output.includes(' is up on '), 'steward start');
    const up = performance.now();
    const port = readLock(dataDir)?.port;
    const secret = fs.readFileSync(path.join(dataDir, 'secret'), 'utf8').trim();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/?token=${secret}`);
    if (consoleMode === 'off') await page.getByRole('heading', { name: /running/ }).waitFor();
    else await page.getByRole('navigation', { name: 'Channels' }).getByText('ml-ops').waitFor();
    const painted = performance.now();
    await page.close();
    return { upMs: up - t0, paintMs: painted - up, totalMs: painted - t0 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function bareNode(): number {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return new Promise<number>((resolve) =>
    child.once('exit', () => resolve(performance.now() - t0)),
  ) as unknown as number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

const browser = await chromium.launch({
  executablePath: process.env.STEWARD_CHROMIUM ?? '/usr/bin/chromium',
});
const results: Record<string, Sample[]> = { console: [], 'status page (STEWARD_CONSOLE=off)': [] };
const node: number[] = [];
for (let i = 0; i < runs; i++) {
  results.console?.push(await once('demo', browser));
  results['status page (STEWARD_CONSOLE=off)']?.push(await once('off', browser));
  node.push(await bareNode());
}
await browser.close();

console.log(`${os.cpus().length} cores, node ${process.version}, ${runs} runs each, medians (ms)`);
console.log('what                                   | start → up | up → first paint | total');
for (const [what, samples] of Object.entries(results)) {
  const m = (k: keyof Sample) =>
    median(samples.map((s) => s[k]))
      .toFixed(0)
      .padStart(5);
  console.log(`${what.padEnd(38)} | ${m('upMs')}      | ${m('paintMs')}            | ${m('totalMs')}`);
}
console.log(
  `${"bare `node -e ''`".padEnd(38)} | ${median(node).toFixed(0).padStart(5)}      |                  |`,
);
