/**
 * How long a chart takes to draw: vega-lite → vega (SVG) → resvg (PNG), as `renderPng`
 * does for the approval card and the drift alert.
 *
 *   npx tsx bench/charts.ts [--repeats N]
 *
 * The first call of the process is timed on its own: it imports vega, vega-lite and resvg
 * (loaded lazily by render.ts) and warms them. Each chart is then drawn `--repeats` times
 * (default 20) and the median and slowest are reported, with the PNG's size and the longest
 * the event loop was held during those draws (`monitorEventLoopDelay`; resvg rasterises on
 * libuv's thread pool, vega-lite and vega run on the loop). The data are
 * as large as Steward stores them: 200-point ROC curves, 500 (actual, predicted) pairs per
 * model, 100 epochs, 4 drift panels of 10 bins.
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { renderPng } from '../src/stages/charts/render.ts';
import {
  driftHistogramsChart,
  predictedVsActualChart,
  rocChart,
  trainingCurveChart,
} from '../src/stages/charts/specs.ts';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '20' } } });
const repeats = Number(values.repeats);

const roc = (power: number): [number, number][] =>
  Array.from({ length: 200 }, (_, i): [number, number] => [i / 199, (i / 199) ** power]);
const pairs = (noise: number): [number, number][] =>
  Array.from({ length: 500 }, (_, i): [number, number] => [i * 700, i * 700 + noise * Math.sin(i * 1.7)]);
const bins = Array.from({ length: 10 }, (_, i) => `${i * 10}–${i * 10 + 10}`);

const charts = {
  roc: rocChart(
    [
      { label: 'this run (#12)', points: roc(0.3), auc: 0.87 },
      { label: 'production v3', points: roc(0.5), auc: 0.81 },
    ],
    '#12 churn: ROC curve vs production v3',
  ),
  'predicted vs actual': predictedVsActualChart(
    [
      { label: 'this run (#4)', points: pairs(30_000) },
      { label: 'production v2', points: pairs(50_000) },
    ],
    '#4 housing: predicted vs actual vs production v2',
  ),
  'training curve': trainingCurveChart(
    Array.from({ length: 100 }, (_, i) => ({
      epoch: i + 1,
      loss: 0.7 / (i + 1) + 0.2,
      valLoss: 0.8 / (i + 1) + 0.25,
    })),
    '#12 churn: MLP loss per epoch',
  ),
  'drift, 4 panels': driftHistogramsChart(
    ['tenure', 'charges', 'age', 'usage'].map((feature, k) => ({
      title: `${feature}: Wasserstein (normed) 0.${3 - (k % 3)}1 ≥ 0.1`,
      labels: bins,
      reference: bins.map((_, i) => 10 + ((i * 7) % 13)),
      current: bins.map((_, i) => 10 + ((i * 5 + k) % 11)),
    })),
    'churn: drift in the last 1,000 predictions',
  ),
};

const ms = (start: number) => performance.now() - start;

const load = () =>
  os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
process.stdout.write(
  `Charts: Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${process.platform}; ` +
    `${repeats} warm draws per chart; load average (1, 5, 15 min) ${load()} before\n`,
);
const first = performance.now();
await renderPng(charts.roc);
process.stdout.write(
  `first call of the process (imports included, ROC chart): ${ms(first).toFixed(0)} ms\n\n`,
);
process.stdout.write(
  '| chart | first draw | median | slowest | loop held (max) | PNG |\n|---|---|---|---|---|---|\n',
);
for (const [name, spec] of Object.entries(charts)) {
  const times: number[] = [];
  let bytes = 0;
  let size = '';
  const loop = monitorEventLoopDelay({ resolution: 1 });
  for (let i = 0; i <= repeats; i++) {
    if (i === 1) loop.enable();
    const start = performance.now();
    const rendered = await renderPng(spec);
    times.push(ms(start));
    bytes = rendered.png.length;
    size = `${rendered.width}×${rendered.height}`;
  }
  loop.disable();
  const held = loop.max / 1e6;
  const [firstDraw, ...warm] = times as [number, ...number[]];
  warm.sort((a, b) => a - b);
  const median = warm[Math.floor(warm.length / 2)] ?? Number.NaN;
  const slowest = warm.at(-1) ?? Number.NaN;
  process.stdout.write(
    `| ${name} | ${firstDraw.toFixed(0)} ms | ${median.toFixed(0)} ms | ${slowest.toFixed(0)} ms | ${held.toFixed(0)} ms | ${size}, ${(bytes / 1024).toFixed(0)} KB |\n`,
  );
}
process.stdout.write(`\nload average ${load()} after\n`);
