/**
 * Drift statistics benchmark: Steward's full drift report beside SciPy computing the same
 * statistics on the same data.
 *
 *   npx tsx bench/drift.ts [--features N] [--reference N] [--current N] [--python PATH] [--keep]
 *
 * Data: 20 numeric features (default), 100,000 reference rows and 1,000,000 current rows,
 * drawn with Steward's seeded generator (seed 2026): normal, log-normal, uniform,
 * exponential, integer-valued (many ties) and rounded columns, some of them shifted or
 * rescaled in the current data so both the drifted and the undrifted code paths run. The
 * columns are written to a temp folder as raw float64 (`reference.f64`, `current.f64`, one
 * feature after another, plus `meta.json`) and `bench/drift_scipy.py` reads them with
 * `numpy.fromfile`, so both sides see the same numbers bit for bit.
 *
 * Steward: `compareTables(reference, current)` with default options, timed end to end: it
 * sorts each column once and computes KS (asymptotic p-value at these sizes), PSI, the
 * Wasserstein distance (raw and normed), chi-square and contingency on the PSI bins,
 * Jensen–Shannon and the histogram for every column. A second pass times the statistics
 * one by one (the sort, then KS, Wasserstein, PSI and chi-square on the sorted samples).
 * A smaller report (30,000 and 60,000 rows) is run first so V8 has compiled the code, as in a
 * long-running Steward; SciPy's compiled code needs no warm-up.
 *
 * SciPy: `ks_2samp`, `wasserstein_distance`, PSI with NumPy on the same quantile bins, and
 * `chisquare` on those bins, each timed per feature (each sorts its inputs itself, which is
 * how they are called). One thread (OMP/BLAS), like Steward's one Node thread. The bench
 * prints both, the ratio, how far the values differ, and Steward's peak RSS.
 *
 * Targets: the Steward report under 4 s, and at least 3× faster than SciPy's four statistics.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type Column, createTable, type Table } from '../src/stages/data/table.ts';
import {
  chiSquareGoF,
  compareTables,
  ks2samp,
  quantileCuts,
  sortedFinite,
  wasserstein,
} from '../src/stages/drift/index.ts';
import { PSI_BINS, psiFromCounts, sortedBinCounts } from '../src/stages/drift/psi.ts';
import { createRng, type Rng } from '../src/stages/ml/random.ts';

const SEED = 2026;
const TARGET_SECONDS = 4;
const TARGET_RATIO = 3;

type Feature = { name: string; reference: (rng: Rng) => number; current: (rng: Rng) => number };

const normal = (mean: number, sd: number) => (rng: Rng) => mean + sd * rng.normal();
const logNormal = (mu: number, sigma: number) => (rng: Rng) => Math.exp(mu + sigma * rng.normal());
const exponential = (rate: number) => (rng: Rng) => -Math.log(1 - rng.next()) / rate;
const uniform = (lo: number, hi: number) => (rng: Rng) => lo + (hi - lo) * rng.next();
const integers = (weights: number[]) => {
  const total = weights.reduce((a, b) => a + b, 0);
  return (rng: Rng) => {
    let u = rng.next() * total;
    for (let k = 0; k < weights.length; k++) {
      u -= weights[k] as number;
      if (u < 0) return k;
    }
    return weights.length - 1;
  };
};
const rounded = (draw: (rng: Rng) => number, step: number) => (rng: Rng) =>
  Math.round(draw(rng) / step) * step;

/** The feature mix, cycled when more than 20 are asked for. */
const FEATURES: Feature[] = [
  { name: 'normal', reference: normal(0, 1), current: normal(0, 1) },
  { name: 'normal_b', reference: normal(5, 2), current: normal(5, 2) },
  { name: 'normal_shift_small', reference: normal(0, 1), current: normal(0.01, 1) },
  { name: 'normal_shift', reference: normal(0, 1), current: normal(0.05, 1) },
  { name: 'normal_wider', reference: normal(0, 1), current: normal(0, 1.1) },
  { name: 'lognormal', reference: logNormal(0, 0.5), current: logNormal(0, 0.5) },
  { name: 'lognormal_shift', reference: logNormal(0, 0.5), current: logNormal(0.1, 0.5) },
  { name: 'uniform', reference: uniform(0, 100), current: uniform(0, 100) },
  { name: 'uniform_moved', reference: uniform(0, 100), current: uniform(10, 110) },
  { name: 'exponential', reference: exponential(1), current: exponential(1) },
  { name: 'exponential_rate', reference: exponential(1), current: exponential(0.9) },
  {
    name: 'integers',
    reference: integers([5, 9, 12, 10, 8, 6, 4, 3, 2, 1]),
    current: integers([5, 9, 12, 10, 8, 6, 4, 3, 2, 1]),
  },
  {
    name: 'integers_moved',
    reference: integers([5, 9, 12, 10, 8, 6, 4, 3, 2, 1]),
    current: integers([4, 8, 11, 10, 9, 7, 5, 3, 2, 1]),
  },
  { name: 'rounded', reference: rounded(normal(50, 10), 0.5), current: rounded(normal(50, 10), 0.5) },
  { name: 'rounded_shift', reference: rounded(normal(50, 10), 0.5), current: rounded(normal(50.5, 10), 0.5) },
  { name: 'normal_c', reference: normal(-3, 0.5), current: normal(-3, 0.5) },
  { name: 'normal_d', reference: normal(100, 15), current: normal(100, 15) },
  { name: 'lognormal_b', reference: logNormal(1, 1), current: logNormal(1, 1) },
  { name: 'uniform_b', reference: uniform(-1, 1), current: uniform(-1, 1) },
  { name: 'normal_far', reference: normal(0, 1), current: normal(0.5, 1) },
];

type Options = {
  features: number;
  reference: number;
  current: number;
  python: string | undefined;
  keep: boolean;
};

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      features: { type: 'string', default: '20' },
      reference: { type: 'string', default: '100000' },
      current: { type: 'string', default: '1000000' },
      python: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: npx tsx bench/drift.ts [--features N] [--reference N] [--current N] [--python PATH] [--keep]',
    );
    process.exit(0);
  }
  const whole = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a whole number of at least 1, got ${text}`);
    return n;
  };
  return {
    features: whole('features', values.features),
    reference: whole('reference', values.reference),
    current: whole('current', values.current),
    python: values.python,
    keep: values.keep,
  };
}

function fail(message: string): never {
  console.error(`bench/drift: ${message}`);
  process.exit(1);
}

/** One Float64Array per feature and side, drawn from one seeded stream, feature by feature. */
function generate(options: Options): { names: string[]; reference: Float64Array[]; current: Float64Array[] } {
  const rng = createRng(SEED);
  const names: string[] = [];
  const reference: Float64Array[] = [];
  const current: Float64Array[] = [];
  for (let j = 0; j < options.features; j++) {
    const feature = FEATURES[j % FEATURES.length] as Feature;
    names.push(j < FEATURES.length ? feature.name : `${feature.name}_${Math.floor(j / FEATURES.length)}`);
    const r = new Float64Array(options.reference);
    for (let i = 0; i < r.length; i++) r[i] = feature.reference(rng);
    const c = new Float64Array(options.current);
    for (let i = 0; i < c.length; i++) c[i] = feature.current(rng);
    reference.push(r);
    current.push(c);
  }
  return { names, reference, current };
}

/** The features one after another as little-endian float64, as numpy.fromfile reads them. */
function writeColumns(file: string, columns: Float64Array[]): void {
  if (os.endianness() !== 'LE')
    fail('this bench writes float64 in the machine order and expects little-endian');
  const fd = openSync(file, 'w');
  try {
    for (const column of columns)
      writeSync(fd, new Uint8Array(column.buffer, column.byteOffset, column.byteLength));
  } finally {
    closeSync(fd);
  }
}

function tableOf(names: string[], columns: Float64Array[]): Table {
  return createTable(
    names.map((name, j): Column => ({ name, type: 'numeric', values: columns[j] as Float64Array })),
  );
}

function findPython(explicit: string | undefined): { python: string; version: string } | { problem: string } {
  const candidates = explicit ? [explicit] : ['python3', '/usr/bin/python3'];
  for (const python of candidates) {
    const result = spawnSync(python, ['-c', 'import scipy, sys; print(scipy.__version__)'], {
      encoding: 'utf8',
    });
    if (result.status === 0) return { python, version: result.stdout.trim() };
  }
  return { problem: `no Python with SciPy among ${candidates.join(', ')} (apt-get install python3-scipy)` };
}

type ScipyResult = {
  versions: { python: string; numpy: string; scipy: string };
  seconds: Record<'ks' | 'wasserstein' | 'psi' | 'chisquare', number>;
  total: number;
  columns: {
    ks_statistic: number;
    ks_pvalue: number;
    wasserstein: number;
    psi: number;
    chisquare_statistic: number;
    chisquare_pvalue: number;
  }[];
};

function runScipy(python: string, dir: string): ScipyResult {
  const env = { ...process.env };
  for (const name of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS']) env[name] = '1';
  const script = path.join(path.dirname(new URL(import.meta.url).pathname), 'drift_scipy.py');
  const result = spawnSync(python, [script, dir], {
    env,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (result.status !== 0) fail(`${python} ${script} exited with ${result.status ?? result.signal}`);
  return JSON.parse(result.stdout) as ScipyResult;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

function main(): void {
  const options = parseOptions();
  console.log(
    `Steward drift statistics: Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), ${process.platform}`,
  );
  console.log(
    `data: ${options.features} numeric features, reference ${options.reference.toLocaleString('en')} rows, ` +
      `current ${options.current.toLocaleString('en')} rows, seed ${SEED}`,
  );
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  const loadBefore = load();
  let t = performance.now();
  const data = generate(options);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-bench-drift-'));
  writeColumns(path.join(dir, 'reference.f64'), data.reference);
  writeColumns(path.join(dir, 'current.f64'), data.current);
  writeFileSync(
    path.join(dir, 'meta.json'),
    JSON.stringify({
      features: options.features,
      reference_rows: options.reference,
      current_rows: options.current,
      bins: PSI_BINS,
    }),
  );
  console.error(`generated and wrote ${dir} in ${seconds(performance.now() - t)}`);

  const reference = tableOf(data.names, data.reference);
  const current = tableOf(data.names, data.current);
  // Warm-up: a smaller report (large enough for the radix sort) so the timed one runs compiled code.
  compareTables(
    tableOf(
      data.names,
      data.reference.map((c) => c.subarray(0, 30_000)),
    ),
    tableOf(
      data.names,
      data.current.map((c) => c.subarray(0, 60_000)),
    ),
  );

  t = performance.now();
  const report = compareTables(reference, current);
  const reportMs = performance.now() - t;

  // The same statistics one by one, on samples sorted once.
  const parts = { sort: 0, ks: 0, wasserstein: 0, psi: 0, chisquare: 0 };
  const ours: { ks: number; ksP: number; w: number; psi: number; chiStat: number; chiP: number }[] = [];
  for (let j = 0; j < options.features; j++) {
    let s = performance.now();
    const a = sortedFinite(data.reference[j] as Float64Array);
    const b = sortedFinite(data.current[j] as Float64Array);
    parts.sort += performance.now() - s;
    s = performance.now();
    const ks = ks2samp(a, b, { sorted: true });
    parts.ks += performance.now() - s;
    s = performance.now();
    const w = wasserstein(a, b, { sorted: true });
    parts.wasserstein += performance.now() - s;
    s = performance.now();
    const cuts = quantileCuts(a, PSI_BINS);
    const rc = sortedBinCounts(a, cuts);
    const cc = sortedBinCounts(b, cuts);
    const psi = psiFromCounts(rc, cc);
    parts.psi += performance.now() - s;
    s = performance.now();
    const chi = chiSquareGoF(rc, cc);
    parts.chisquare += performance.now() - s;
    ours.push({
      ks: ks.statistic,
      ksP: ks.pValue,
      w: w.distance,
      psi,
      chiStat: chi.statistic,
      chiP: chi.pValue,
    });
  }
  const partsTotal = Object.values(parts).reduce((x, y) => x + y, 0);
  const peak = process.resourceUsage().maxRSS * 1024;

  console.log('');
  console.log(`Steward  full report (compareTables, default options): ${seconds(reportMs)}`);
  console.log(
    `         one by one: sort ${seconds(parts.sort)}, KS ${seconds(parts.ks)}, Wasserstein ${seconds(parts.wasserstein)}, ` +
      `PSI ${seconds(parts.psi)}, chi-square ${seconds(parts.chisquare)}; total ${seconds(partsTotal)}`,
  );
  console.log(
    `         report: ${report.drifted} of ${report.monitored} columns drifted, tests ${[...new Set(report.columns.map((c) => c.test))].join(', ')}`,
  );
  console.log(
    `         peak RSS ${mb(peak)} (process.resourceUsage().maxRSS), RSS now ${mb(process.memoryUsage().rss)}`,
  );

  const found = findPython(options.python);
  if ('problem' in found) {
    console.log(`SciPy    ${found.problem}; showing Steward's figures only`);
  } else {
    t = performance.now();
    const scipy = runScipy(found.python, dir);
    const wall = performance.now() - t;
    const s = scipy.seconds;
    console.log(
      `SciPy    ${scipy.versions.scipy} (NumPy ${scipy.versions.numpy}, Python ${scipy.versions.python}, ${found.python}, 1 thread): ` +
        `KS ${s.ks.toFixed(2)} s, Wasserstein ${s.wasserstein.toFixed(2)} s, PSI ${s.psi.toFixed(2)} s, ` +
        `chi-square ${s.chisquare.toFixed(2)} s; total ${scipy.total.toFixed(2)} s (process wall ${seconds(wall)})`,
    );
    const ratio = (scipy.total * 1000) / reportMs;
    console.log(`ratio    SciPy's four statistics / Steward's full report: ${ratio.toFixed(2)}×`);

    const worst = { ks: 0, ksP: 0, w: 0, psi: 0, chiP: 0 };
    scipy.columns.forEach((c, j) => {
      const o = ours[j] as (typeof ours)[number];
      worst.ks = Math.max(worst.ks, Math.abs(o.ks - c.ks_statistic));
      worst.ksP = Math.max(worst.ksP, Math.abs(o.ksP - c.ks_pvalue));
      worst.w = Math.max(worst.w, Math.abs(o.w - c.wasserstein) / Math.max(Math.abs(c.wasserstein), 1e-300));
      worst.psi = Math.max(worst.psi, Math.abs(o.psi - c.psi));
      worst.chiP = Math.max(worst.chiP, Math.abs(o.chiP - c.chisquare_pvalue));
    });
    console.log(
      `values   largest differences from SciPy: KS D ${worst.ks.toExponential(1)}, KS p ${worst.ksP.toExponential(1)}, ` +
        `Wasserstein ${worst.w.toExponential(1)} (relative), PSI ${worst.psi.toExponential(1)}, chi-square p ${worst.chiP.toExponential(1)}`,
    );
    console.log(
      `targets  report under ${TARGET_SECONDS} s: ${reportMs < TARGET_SECONDS * 1000 ? 'PASS' : 'MISS'}; ` +
        `at least ${TARGET_RATIO}× faster than SciPy: ${ratio >= TARGET_RATIO ? 'PASS' : 'MISS'}`,
    );
  }
  console.log(`load average (1, 5, 15 min): ${loadBefore} before measuring, ${load()} after`);
  if (options.keep) console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

main();
