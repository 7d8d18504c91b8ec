/**
 * Model quality benchmark: Steward's models beside scikit-learn's on the same train/test
 * split, for test metric and fit time.
 *
 *   npx tsx bench/quality.ts [--python PATH] [--rows N] [--large-trees N] [--sklearn-threads N] [--keep]
 *
 * Why beside scikit-learn: the numeric core promises scikit-learn's defaults and
 * definitions (see src/stages/ml), so a data scientist comparing Steward's numbers with a
 * notebook should see the same quality at a comparable cost. Both sides get exactly the
 * same rows: this script makes the split (stratified 25% holdout, seed 0; unstratified for
 * regression), writes it to CSV files in a temp folder, and runs a small inline Python
 * script on them with the same model families.
 *
 * Datasets: breast cancer (binary), wine (3 classes) and diabetes (regression), exported by
 * scikit-learn's own loaders from the data files bundled in its package, plus a generated
 * binary set (default 100,000 rows × 20 features, Steward's seeded port of
 * `make_classification`) to show how cost grows. Without scikit-learn there are no public
 * datasets; the generated one is still run and only Steward's figures are shown.
 *
 * Python: `--python PATH`, else `python3` on PATH, else `/usr/bin/python3` (Debian's
 * interpreter, where `apt-get install python3-sklearn` puts scikit-learn), whichever can
 * import sklearn first.
 *
 * Protocol: preprocessing (standardising, for logistic regression, k-NN and the MLP) is
 * fitted on the train rows outside the timed region, on both sides. Fit time is the fastest
 * of up to 5 fits on the small sets (first-call and JIT noise would otherwise dominate
 * milliseconds) and up to 3 on the generated set, stopping once 2 s of fitting has been
 * spent, by the same rule on both sides. scikit-learn runs with default model parameters
 * (seeded; the MLP's are set to match, below) on one thread
 * (OMP/BLAS, `--sklearn-threads` to change), like Steward's one Node thread: per-core cost
 * is what the comparison is about, and multi-threaded OpenMP proved erratic on a shared
 * 2-core machine (see `runPython`). Random forests are single-threaded on both sides anyway.
 *
 * MLP: Steward's `fitMlp` (TensorFlow.js, on the backend `loadTf` picks and the header
 * prints; wasm is single-threaded in Node) beside scikit-learn's MLPClassifier/MLPRegressor,
 * both with hidden layers (32, 16), ReLU, Adam, no L2 penalty (`alpha=0`, as `l2: 0`), a fixed
 * epoch count with no early stopping, and the same batch size and learning rate (`MLP_SMALL`,
 * `MLP_LARGE`). For regression scikit-learn's MLPRegressor is wrapped in a
 * TransformedTargetRegressor with StandardScaler, since fitMlp standardises the target
 * internally. TensorFlow.js is loaded and one tiny fit is run before any timing, so the import
 * and its first-call kernel setup are not counted; each MLP is disposed after scoring.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { readCsvFile } from '../src/stages/data/csv.ts';
import { type Column, createTable, getColumn, type Table } from '../src/stages/data/table.ts';
import { applyTransform, fitTransform } from '../src/stages/features/transform.ts';
import {
  accuracy,
  fitForestClassifier,
  fitForestRegressor,
  fitGbmClassifier,
  fitGbmRegressor,
  fitKnnClassifier,
  fitKnnRegressor,
  fitLinear,
  fitLogistic,
  holdoutSplit,
  type Matrix,
  type Model,
  matrix,
  rmse,
  rocAucOvr,
  type Task,
} from '../src/stages/ml/index.ts';
import { fitMlp, type MlpModel } from '../src/stages/ml/mlp.ts';
import { loadTf } from '../src/stages/ml/tf.ts';
import { makeClassification } from '../test/ml/synthetic.ts';

type Family = 'linear' | 'logistic' | 'gbm' | 'forest' | 'knn' | 'mlp';
type Kind = 'binary' | 'multiclass' | 'regression';
type MetricName = 'auc' | 'accuracy' | 'rmse';

/** Target on the test metric: within 0.01 of scikit-learn (or better) for scores, 5% for RMSE. */
const SCORE_TOLERANCE = 0.01;
const RMSE_TOLERANCE = 0.05;
/** Target on fit time: at most this many times scikit-learn's. */
const TIME_FACTOR = 3;
const SMALL_REPEATS = 5;
const LARGE_REPEATS = 3;
/** Repeated fits stop once this much fitting time is spent (at least one fit always runs). */
const FIT_BUDGET_SECONDS = 2;
const SMALL_TREES = 100;

/** MLP training settings, the same on both sides. */
type MlpSettings = { epochs: number; batch_size: number; learning_rate: number };
/**
 * Small sets: 200 epochs of batch 32 at Adam's default step (scikit-learn's max_iter and
 * learning_rate_init defaults), enough for both to converge on a few hundred rows; a larger
 * step (0.003, 0.01) only overfits diabetes more on scikit-learn's side.
 */
const MLP_SMALL: MlpSettings = { epochs: 200, batch_size: 32, learning_rate: 0.001 };
/**
 * The generated set: 10 epochs of batch 64 (11,720 steps on 75,000 rows): about 2.3 s for
 * scikit-learn and 20 s for TensorFlow.js wasm on the 2-core benchmark machine.
 */
const MLP_LARGE: MlpSettings = { epochs: 10, batch_size: 64, learning_rate: 0.001 };
const MLP_HIDDEN = [32, 16];

const METRICS: Record<Kind, MetricName[]> = {
  binary: ['auc'],
  multiclass: ['accuracy', 'auc'],
  regression: ['rmse'],
};
const METRIC_LABEL: Record<Kind, Partial<Record<MetricName, string>>> = {
  binary: { auc: 'AUC' },
  multiclass: { accuracy: 'accuracy', auc: 'AUC ovr' },
  regression: { rmse: 'RMSE' },
};

/**
 * Which families run on which task, and on which features: linear regression has no
 * classification counterpart here (logistic is that), and the distance- and penalty-based
 * models get standardised features, as scikit-learn's documentation recommends.
 */
const FAMILIES: { family: Family; label: string; tasks: Task[]; scaled: boolean }[] = [
  { family: 'linear', label: 'linear', tasks: ['regression'], scaled: false },
  { family: 'logistic', label: 'logistic', tasks: ['classification'], scaled: true },
  { family: 'gbm', label: 'grad. boosting', tasks: ['classification', 'regression'], scaled: false },
  { family: 'forest', label: 'random forest', tasks: ['classification', 'regression'], scaled: false },
  { family: 'knn', label: 'knn (k=5)', tasks: ['classification', 'regression'], scaled: true },
  { family: 'mlp', label: 'mlp (32, 16)', tasks: ['classification', 'regression'], scaled: true },
];

type Dataset = {
  name: string;
  kind: Kind;
  table: Table;
  /** Trees per forest on both sides. */
  trees: number;
  /** MLP epochs, batch size and learning rate on both sides. */
  mlp: MlpSettings;
  repeats: number;
};

type Prepared = Dataset & {
  task: Task;
  raw: { train: Matrix; test: Matrix };
  scaled: { train: Matrix; test: Matrix };
  yTrain: Float64Array;
  yTest: Float64Array;
  trainFile: string;
  testFile: string;
};

type Measured = { fitSeconds: number; predictSeconds: number; metrics: Partial<Record<MetricName, number>> };

type Options = {
  python: string | undefined;
  rows: number;
  largeTrees: number;
  sklearnThreads: number;
  keep: boolean;
};

function fail(message: string): never {
  console.error(`bench/quality: ${message}`);
  process.exit(2);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      python: { type: 'string' },
      rows: { type: 'string' },
      'large-trees': { type: 'string' },
      'sklearn-threads': { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      'usage: npx tsx bench/quality.ts [--python PATH] [--rows N] [--large-trees N] [--sklearn-threads N] [--keep]',
    );
    process.exit(0);
  }
  const int = (name: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${value}`);
    return n;
  };
  return {
    python: values.python,
    rows: int('rows', values.rows, 100_000),
    largeTrees: int('large-trees', values['large-trees'], 100),
    sklearnThreads: int('sklearn-threads', values['sklearn-threads'], 1),
    keep: values.keep ?? false,
  };
}

/** A Python that can import scikit-learn, with its version, or the reason there is none. */
function findPython(explicit: string | undefined): { python: string; version: string } | { problem: string } {
  const candidates = explicit ? [explicit] : ['python3', '/usr/bin/python3'];
  const tried: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(
      python,
      ['-c', 'import sys, sklearn; print(sklearn.__version__, sys.version.split()[0])'],
      { encoding: 'utf8' },
    );
    if (probe.status === 0) {
      const [sklearn, version] = probe.stdout.trim().split(' ');
      if (tried.length > 0) console.log(`note: ${tried.join('; ')}; using ${python}`);
      return { python, version: `scikit-learn ${sklearn} on Python ${version} (${python})` };
    }
    tried.push(`${python} ${probe.error ? 'is not there' : 'has no scikit-learn'}`);
  }
  return { problem: tried.join('; ') };
}

/**
 * Runs an inline Python script. `threads` caps OpenMP and BLAS threads: scikit-learn's
 * default (every core) is not used by default because on a shared 2-core machine
 * HistGradientBoosting's OpenMP threads spin waiting for each other whenever another
 * process holds a core, which made its fits 20-40× slower than on one thread.
 */
function runPython(python: string, script: string, args: string[], input = '', threads?: number): string {
  const env = { ...process.env };
  if (threads !== undefined) {
    for (const name of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'])
      env[name] = String(threads);
  }
  const result = spawnSync(python, ['-c', script, ...args], {
    env,
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  if (result.status !== 0) fail(`${python} exited with ${result.status ?? result.signal}`);
  return result.stdout;
}

/** Writes the three public datasets as CSV (feature names + `target`) with scikit-learn's loaders. */
const EXPORT_SCRIPT = `
import sys
import numpy as np
from sklearn.datasets import load_breast_cancer, load_wine, load_diabetes
out = sys.argv[1]
for name, loader in [('breast_cancer', load_breast_cancer), ('wine', load_wine), ('diabetes', load_diabetes)]:
    bunch = loader()
    header = ','.join([n.replace(',', ' ') for n in bunch.feature_names] + ['target'])
    data = np.column_stack([bunch.data, bunch.target])
    np.savetxt(f'{out}/{name}.csv', data, delimiter=',', header=header, comments='', fmt='%.17g')
`;

/** Fits scikit-learn's counterparts on the split CSVs; jobs come on stdin, results go to stdout as JSON. */
const SKLEARN_SCRIPT = `
import json, sys, time, warnings
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.exceptions import ConvergenceWarning
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

# The MLP runs a fixed number of epochs on purpose; "did not converge" is expected.
warnings.filterwarnings('ignore', category=ConvergenceWarning)

def make(family, task, trees, mlp):
    c = task == 'classification'
    if family == 'linear': return LinearRegression()
    if family == 'logistic': return LogisticRegression()
    if family == 'gbm': return HistGradientBoostingClassifier(random_state=0) if c else HistGradientBoostingRegressor(random_state=0)
    if family == 'forest':
        return (RandomForestClassifier if c else RandomForestRegressor)(n_estimators=trees, random_state=0)
    if family == 'knn': return KNeighborsClassifier(5) if c else KNeighborsRegressor(5)
    if family == 'mlp':
        params = dict(hidden_layer_sizes=tuple(mlp['hidden']), activation='relu', solver='adam', alpha=0.0,
                      batch_size=mlp['batch_size'], learning_rate_init=mlp['learning_rate'],
                      max_iter=mlp['epochs'], early_stopping=False, n_iter_no_change=10**9, random_state=0)
        if c: return MLPClassifier(**params)
        # fitMlp standardises the target internally; so does this wrapper.
        return TransformedTargetRegressor(regressor=MLPRegressor(**params), transformer=StandardScaler())
    raise ValueError(family)

results = {}
for job in json.load(sys.stdin):
    train = np.loadtxt(job['train'], delimiter=',', skiprows=1)
    test = np.loadtxt(job['test'], delimiter=',', skiprows=1)
    X, y, Xt, yt = train[:, :-1], train[:, -1], test[:, :-1], test[:, -1]
    scaler = StandardScaler().fit(X)
    scaled = (scaler.transform(X), scaler.transform(Xt))
    out = results[job['name']] = {}
    for family, is_scaled in job['families']:
        A, At = scaled if is_scaled else (X, Xt)
        best, spent, r = float('inf'), 0.0, 0
        while r < job['repeats'] and spent < job['budget']:
            model = make(family, job['task'], job['trees'], job['mlp'])
            t0 = time.perf_counter()
            model.fit(A, y)
            seconds = time.perf_counter() - t0
            best, spent, r = min(best, seconds), spent + seconds, r + 1
        t0 = time.perf_counter()
        if job['kind'] == 'regression':
            pred = model.predict(At)
            predict_s = time.perf_counter() - t0
            metrics = {'rmse': float(np.sqrt(mean_squared_error(yt, pred)))}
        else:
            proba = model.predict_proba(At)
            predict_s = time.perf_counter() - t0
            if job['kind'] == 'binary':
                metrics = {'auc': float(roc_auc_score(yt, proba[:, 1]))}
            else:
                labels = model.classes_[np.argmax(proba, axis=1)]
                metrics = {'accuracy': float(accuracy_score(yt, labels)),
                           'auc': float(roc_auc_score(yt, proba, multi_class='ovr', average='macro'))}
        out[family] = {'fitSeconds': best, 'predictSeconds': predict_s, 'metrics': metrics}
        print(f"  scikit-learn {job['name']} {family}: fit {best:.3f} s", file=sys.stderr, flush=True)
json.dump(results, sys.stdout)
`;

function numericValues(table: Table, name: string): Float64Array {
  const column = getColumn(table, name);
  if (column.type !== 'numeric' && column.type !== 'boolean') fail(`column ${name} is not numeric`);
  return column.values;
}

/** The given rows of a table of numeric columns (all the bench's tables are). */
function takeRows(table: Table, rows: Int32Array): Table {
  const columns = table.columns.map((column): Column => {
    if (column.type !== 'numeric' && column.type !== 'boolean') fail(`column ${column.name} is not numeric`);
    return { ...column, values: Float64Array.from(rows, (i) => column.values[i] ?? Number.NaN) };
  });
  return createTable(columns, rows.length);
}

function writeCsv(file: string, table: Table): void {
  const columns = table.columns.map((c) => numericValues(table, c.name));
  const lines = [table.columns.map((c) => c.name).join(',')];
  for (let i = 0; i < table.rowCount; i++) lines.push(columns.map((values) => String(values[i])).join(','));
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/**
 * Splits a dataset, builds raw and standardised feature matrices with the features stage
 * (fitted on the train rows only), and writes the split for Python.
 */
function prepare(dataset: Dataset, dir: string): Prepared {
  const task: Task = dataset.kind === 'regression' ? 'regression' : 'classification';
  const y = numericValues(dataset.table, 'target');
  const split = holdoutSplit(dataset.table.rowCount, {
    testFraction: 0.25,
    seed: 0,
    stratify: task === 'classification' ? y : undefined,
  });
  const train = takeRows(dataset.table, split.train);
  const test = takeRows(dataset.table, split.test);
  const matrices = (scale: 'none' | 'standard') => {
    const transform = fitTransform(train, { target: 'target', task, spec: { scale } });
    return { train: applyTransform(transform, train), test: applyTransform(transform, test) };
  };
  const trainFile = path.join(dir, `${dataset.name}-train.csv`);
  const testFile = path.join(dir, `${dataset.name}-test.csv`);
  writeCsv(trainFile, train);
  writeCsv(testFile, test);
  return {
    ...dataset,
    task,
    raw: matrices('none'),
    scaled: matrices('standard'),
    yTrain: numericValues(train, 'target'),
    yTest: numericValues(test, 'target'),
    trainFile,
    testFile,
  };
}

/** Any fitted model; the MLP's weights live in TensorFlow's memory and must be disposed. */
type Fitted = Model | MlpModel;

function dispose(model: Fitted | undefined): void {
  if (model?.kind === 'mlp') model.dispose();
}

async function fitSteward(family: Family, data: Prepared, X: Matrix, y: Float64Array): Promise<Fitted> {
  const { task, trees } = data;
  const classification = task === 'classification';
  switch (family) {
    case 'linear':
      return fitLinear(X, y);
    case 'logistic':
      return fitLogistic(X, y);
    case 'gbm':
      return classification ? fitGbmClassifier(X, y, { seed: 0 }) : fitGbmRegressor(X, y, { seed: 0 });
    case 'forest':
      return classification
        ? fitForestClassifier(X, y, { nEstimators: trees, seed: 0 })
        : fitForestRegressor(X, y, { nEstimators: trees, seed: 0 });
    case 'knn':
      return classification ? fitKnnClassifier(X, y, { k: 5 }) : fitKnnRegressor(X, y, { k: 5 });
    case 'mlp':
      return fitMlp(X, y, { task, hidden: MLP_HIDDEN, ...data.mlp, seed: 0 });
  }
}

async function runSteward(data: Prepared, family: Family, scaled: boolean): Promise<Measured> {
  const { train, test } = scaled ? data.scaled : data.raw;
  let fitSeconds = Number.POSITIVE_INFINITY;
  let model: Fitted | undefined;
  let spent = 0;
  for (let r = 0; r < data.repeats && spent < FIT_BUDGET_SECONDS; r++) {
    dispose(model);
    const t0 = performance.now();
    model = await fitSteward(family, data, train, data.yTrain);
    const seconds = (performance.now() - t0) / 1000;
    fitSeconds = Math.min(fitSeconds, seconds);
    spent += seconds;
  }
  if (!model) fail('no fit ran');
  try {
    return score(data, model, test, fitSeconds);
  } finally {
    dispose(model);
  }
}

function score(data: Prepared, model: Fitted, test: Matrix, fitSeconds: number): Measured {
  const t0 = performance.now();
  if (model.task === 'regression') {
    const predicted = model.predict(test);
    const predictSeconds = (performance.now() - t0) / 1000;
    return { fitSeconds, predictSeconds, metrics: { rmse: rmse(data.yTest, predicted) } };
  }
  const proba = model.predictProba(test);
  const predictSeconds = (performance.now() - t0) / 1000;
  const auc = rocAucOvr(data.yTest, proba, model.classes);
  if (data.kind === 'binary') return { fitSeconds, predictSeconds, metrics: { auc } };
  // Labels from the same probabilities (argmax, ties to the lower class, as predict does).
  const labels = new Float64Array(proba.rows);
  for (let i = 0; i < proba.rows; i++) {
    let best = 0;
    for (let k = 1; k < proba.cols; k++) {
      if ((proba.data[i * proba.cols + k] ?? 0) > (proba.data[i * proba.cols + best] ?? 0)) best = k;
    }
    labels[i] = model.classes[best] ?? 0;
  }
  return { fitSeconds, predictSeconds, metrics: { accuracy: accuracy(data.yTest, labels), auc } };
}

function generatedTable(rows: number): Table {
  const data = makeClassification(rows, 20, 2024, { informative: 8, redundant: 4 });
  const d = data.X.cols;
  const columns: Column[] = Array.from({ length: d }, (_, j) => ({
    name: `x${j}`,
    type: 'numeric',
    values: Float64Array.from({ length: rows }, (_, i) => data.X.data[i * d + j] ?? 0),
  }));
  columns.push({ name: 'target', type: 'numeric', values: data.y });
  return createTable(columns, rows);
}

function time(seconds: number | undefined): string {
  if (seconds === undefined) return '—';
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

type Row = { quality: boolean | null; speed: boolean | null; label: string };

function printDataset(
  data: Prepared,
  ours: Map<Family, Measured>,
  theirs: Record<string, Measured> | undefined,
  rows: Row[],
): void {
  const n = data.table.rowCount;
  const d = data.raw.train.cols;
  const classes = data.task === 'classification' ? `, ${new Set(data.yTrain).size} classes` : '';
  console.log(
    `\n${data.name}: ${data.kind}${classes}, ${n} rows × ${d} features; train ${data.yTrain.length} / test ${data.yTest.length}` +
      `${data.task === 'classification' ? ' (stratified)' : ''}; forests ${data.trees} trees; ` +
      `mlp ${data.mlp.epochs} epochs, batch ${data.mlp.batch_size}, lr ${data.mlp.learning_rate}; fit time best of ≤ ${data.repeats}`,
  );
  console.log(
    `  ${pad('model', 15)}${pad('metric', 9)}${pad('Steward', 8, true)}${pad('sklearn', 9, true)}${pad('Δ', 9, true)}  ${pad('quality', 7)}` +
      `${pad('fit Steward', 12, true)}${pad('fit sklearn', 12, true)}${pad('ratio', 8, true)}  ${pad('time', 5)}` +
      `${pad('predict S / sk', 22, true)}`,
  );
  for (const spec of FAMILIES) {
    if (!spec.tasks.includes(data.task)) continue;
    const mine = ours.get(spec.family);
    if (!mine) continue;
    const other = theirs?.[spec.family];
    METRICS[data.kind].forEach((metric, m) => {
      const a = mine.metrics[metric] ?? Number.NaN;
      const b = other?.metrics[metric];
      let delta = '—';
      let quality: boolean | null = null;
      if (b !== undefined) {
        if (metric === 'rmse') {
          delta = `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
          quality = a <= b * (1 + RMSE_TOLERANCE);
        } else {
          delta = `${a >= b ? '+' : ''}${(a - b).toFixed(4)}`;
          quality = a >= b - SCORE_TOLERANCE;
        }
      }
      const first = m === 0;
      const ratio = other ? mine.fitSeconds / other.fitSeconds : undefined;
      const speed = first && ratio !== undefined ? ratio <= TIME_FACTOR : null;
      const digits = metric === 'rmse' ? 2 : 4;
      const verdict = (ok: boolean | null): string => (ok === null ? '' : ok ? 'PASS' : 'MISS');
      const line =
        `  ${pad(first ? spec.label : '', 15)}${pad(METRIC_LABEL[data.kind][metric] ?? metric, 9)}` +
        `${pad(a.toFixed(digits), 8, true)}${pad(b === undefined ? '—' : b.toFixed(digits), 9, true)}${pad(delta, 9, true)}  ` +
        `${pad(verdict(quality), 7)}` +
        (first
          ? `${pad(time(mine.fitSeconds), 12, true)}${pad(time(other?.fitSeconds), 12, true)}` +
            `${pad(ratio === undefined ? '—' : `${ratio.toFixed(2)}×`, 8, true)}  ${pad(verdict(speed), 5)}` +
            `${pad(`${time(mine.predictSeconds)} / ${time(other?.predictSeconds)}`, 22, true)}`
          : '');
      console.log(line.trimEnd());
      rows.push({ quality, speed, label: `${data.name} ${spec.label} ${METRIC_LABEL[data.kind][metric]}` });
    });
  }
}

/**
 * Loads TensorFlow.js, prints its backend, and runs one tiny fit untimed, so that neither
 * the import nor the backend's first-call setup lands in the first MLP's fit time.
 */
async function warmUpTf(data: Prepared | undefined): Promise<void> {
  const { tf, backend } = await loadTf();
  console.log(
    `MLP: TensorFlow.js ${tf.version_core}, backend ${backend}` +
      `${backend === 'wasm' ? ' (single-threaded in Node)' : ''}; hidden layers (${MLP_HIDDEN.join(', ')}), relu, Adam`,
  );
  if (!data) return;
  const { train } = data.scaled;
  const rows = Math.min(train.rows, 64);
  const X = matrix(rows, train.cols, train.data.subarray(0, rows * train.cols));
  const y = data.yTrain.subarray(0, rows);
  const task: Task = new Set(y).size < 2 ? 'regression' : data.task;
  dispose(await fitMlp(X, y, { task, hidden: MLP_HIDDEN, epochs: 1, batch_size: 32, seed: 0 }));
}

async function main(): Promise<void> {
  const options = parseOptions();
  const started = performance.now();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'steward-quality-'));
  try {
    const found = findPython(options.python);
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    console.log(
      `Steward model quality: Node ${process.version}, ${os.cpus().length} cores (${cpu}), ${os.platform()}`,
    );
    const datasets: Dataset[] = [];
    if ('python' in found) {
      console.log(
        `reference: ${found.version}, ${options.sklearnThreads} thread${options.sklearnThreads === 1 ? '' : 's'} ` +
          '(OMP/BLAS); Steward: one Node thread',
      );
      runPython(found.python, EXPORT_SCRIPT, [dir]);
      for (const [name, kind] of [
        ['breast_cancer', 'binary'],
        ['wine', 'multiclass'],
        ['diabetes', 'regression'],
      ] as const) {
        const table = await readCsvFile(path.join(dir, `${name}.csv`));
        datasets.push({ name, kind, table, trees: SMALL_TREES, mlp: MLP_SMALL, repeats: SMALL_REPEATS });
      }
    } else {
      console.log(
        `scikit-learn not installed (apt-get install python3-sklearn); showing Steward's figures only (${found.problem})`,
      );
      console.log('the public datasets come from the scikit-learn package, so only the generated set runs');
    }
    datasets.push({
      name: `generated_${options.rows >= 1000 ? `${options.rows / 1000}k` : options.rows}`,
      kind: 'binary',
      table: generatedTable(options.rows),
      trees: options.largeTrees,
      mlp: MLP_LARGE,
      repeats: LARGE_REPEATS,
    });

    const prepared = datasets.map((dataset) => prepare(dataset, dir));
    await warmUpTf(prepared[0]);
    const ours = new Map<string, Map<Family, Measured>>();
    for (const data of prepared) {
      const results = new Map<Family, Measured>();
      for (const spec of FAMILIES) {
        if (!spec.tasks.includes(data.task)) continue;
        const measured = await runSteward(data, spec.family, spec.scaled);
        console.error(`  Steward ${data.name} ${spec.family}: fit ${measured.fitSeconds.toFixed(3)} s`);
        results.set(spec.family, measured);
      }
      ours.set(data.name, results);
    }

    let theirs: Record<string, Record<string, Measured>> | undefined;
    if ('python' in found) {
      const jobs = prepared.map((data) => ({
        name: data.name,
        kind: data.kind,
        task: data.task,
        train: data.trainFile,
        test: data.testFile,
        trees: data.trees,
        repeats: data.repeats,
        budget: FIT_BUDGET_SECONDS,
        families: FAMILIES.filter((f) => f.tasks.includes(data.task)).map((f) => [f.family, f.scaled]),
        mlp: { hidden: MLP_HIDDEN, ...data.mlp },
      }));
      const output = runPython(
        found.python,
        SKLEARN_SCRIPT,
        [],
        JSON.stringify(jobs),
        options.sklearnThreads,
      );
      theirs = JSON.parse(output) as Record<string, Record<string, Measured>>;
    }

    const rows: Row[] = [];
    for (const data of prepared)
      printDataset(data, ours.get(data.name) ?? new Map(), theirs?.[data.name], rows);

    console.log('');
    if (theirs) {
      const count = (key: 'quality' | 'speed', ok: boolean) => rows.filter((r) => r[key] === ok).length;
      const misses = (key: 'quality' | 'speed') =>
        rows
          .filter((r) => r[key] === false)
          .map((r) => r.label)
          .join('; ') || 'none';
      console.log(
        `targets: metric within ${SCORE_TOLERANCE} (AUC/accuracy) or ${RMSE_TOLERANCE * 100}% (RMSE) of scikit-learn or better: ` +
          `${count('quality', true)} PASS, ${count('quality', false)} MISS (${misses('quality')})`,
      );
      console.log(
        `         fit time ≤ ${TIME_FACTOR}× scikit-learn's: ${count('speed', true)} PASS, ${count('speed', false)} MISS (${misses('speed')})`,
      );
    }
    console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    if (options.keep) console.log(`split files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
