import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DrizzleQueryError } from 'drizzle-orm';
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
  type MockInstance,
  vi,
} from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { findRun, stageAttemptsOf, timeline } from '../../src/db/runs-repo.ts';
import { runs } from '../../src/db/schema.ts';
import { createDirectoryCatalog } from '../../src/stages/catalog.ts';
import { MAX_CELL_BYTES, parseCsv, readCsvFile } from '../../src/stages/data/csv.ts';
import { PROFILE_VALUE_CHARS, profileTable } from '../../src/stages/data/profile.ts';
import { createTable } from '../../src/stages/data/table.ts';
import { stages } from '../../src/stages/index.ts';
import { StageFailure, type StageFn, type StageRequest, type StageSet } from '../../src/stages/stage.ts';
import { createStageStore, type StageStore } from '../../src/stages/store.ts';
import { createThreadExecutor } from '../../src/workflows/stage-executor.ts';
import { backends } from '../helpers/database.ts';
import { demoSpec, type EngineHarness, engineHarness } from '../helpers/engine.ts';

/**
 * base/
 *   root/            the one allowed data root
 *     data.csv       a small valid CSV
 *     link.csv  ->   ../outside/secret.csv
 *     pipelines/evil.yaml   source.path: ../../outside/secret.csv
 *   outside/secret.csv
 */
const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'steward-roots-')));
const root = path.join(base, 'root');
const outside = path.join(base, 'outside');
const secret = path.join(outside, 'secret.csv');
const inside = path.join(root, 'data.csv');
const link = path.join(root, 'link.csv');
const pipelinesDir = path.join(root, 'pipelines');

const rows = (n: number, cell: (i: number) => string = (i) => `p${i % 3}`) =>
  Array.from({ length: n }, (_, i) => `${cell(i)},${i % 50},${i % 2}`).join('\n');
const csv = (n = 40, cell?: (i: number) => string) => `plan,tenure,churned\n${rows(n, cell)}\n`;

beforeAll(() => {
  fs.mkdirSync(pipelinesDir, { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(inside, csv());
  fs.writeFileSync(secret, 'user,password\nroot,hunter2\n');
  fs.symlinkSync(secret, link);
  fs.writeFileSync(
    path.join(pipelinesDir, 'evil.yaml'),
    'name: evil\ntask: classification\nsource: { type: csv, path: ../../outside/secret.csv }\ntarget: churned\nmodel: { type: logistic }\n',
  );
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Every file the code under test opens through fs/promises (which is how CSV files are opened). */
let open: MockInstance<typeof fsp.open>;
beforeEach(() => {
  open = vi.spyOn(fsp, 'open');
  vi.stubEnv('STEWARD_DATA_ROOTS', root);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});
const opened = () => open.mock.calls.map(([file]) => String(file));
const refusal = (shown: string, viaLink = false) =>
  `source.path ${shown}${viaLink ? ` (which resolves to ${secret})` : ''} is outside the allowed data roots (${root}); ` +
  'set STEWARD_DATA_ROOTS to a list of directories CSV sources may be read from';

describe('CSV sources outside the allowed data roots', () => {
  it('refuses a ../../-style relative path, and opens nothing', async () => {
    const relative = path.relative(process.cwd(), secret);
    expect(relative).toMatch(/^\.\.\//);
    await expect(readCsvFile(relative)).rejects.toThrow(refusal(relative));
    expect(opened()).toEqual([]);
  });

  it('refuses an absolute path, and opens nothing', async () => {
    await expect(readCsvFile(secret)).rejects.toThrow(refusal(secret));
    await expect(readCsvFile('/etc/passwd')).rejects.toThrow(
      'source.path /etc/passwd is outside the allowed data roots',
    );
    expect(opened()).toEqual([]);
  });

  it('refuses a symlink inside a root that points outside, and opens nothing', async () => {
    await expect(readCsvFile(link)).rejects.toThrow(refusal(link, true));
    expect(opened()).toEqual([]);
  });

  it('reads a file inside STEWARD_DATA_ROOTS', async () => {
    const table = await readCsvFile(inside);
    expect(table.rowCount).toBe(40);
    expect(opened()).toEqual([inside]);
    // A root may be reached through a link too: what counts is where the file really is.
    const aliasRoot = path.join(base, 'alias');
    fs.symlinkSync(root, aliasRoot);
    expect((await readCsvFile(path.join(aliasRoot, 'data.csv'), { roots: [aliasRoot] })).rowCount).toBe(40);
  });

  it('defaults to the parent of the pipelines dir, and validates STEWARD_DATA_ROOTS', async () => {
    vi.stubEnv('STEWARD_DATA_ROOTS', '');
    vi.stubEnv('STEWARD_PIPELINES_DIR', pipelinesDir);
    expect((await readCsvFile(inside)).rowCount).toBe(40);
    await expect(readCsvFile(secret)).rejects.toThrow(refusal(secret));
    expect(loadConfig({ STEWARD_PIPELINES_DIR: pipelinesDir }).dataRoots).toEqual([root]);
    expect(loadConfig({ STEWARD_DATA_ROOTS: `${root}${path.delimiter}${outside}` }).dataRoots).toEqual([
      root,
      outside,
    ]);
    const missing = path.join(base, 'nope');
    expect(() => loadConfig({ STEWARD_DATA_ROOTS: `${root}${path.delimiter}${missing}` })).toThrow(
      `STEWARD_DATA_ROOTS: ${missing} is not a directory`,
    );
    expect(() => loadConfig({ STEWARD_DATA_ROOTS: inside })).toThrow(`${inside} is not a directory`);
  });
});

describe('stage threads', () => {
  const request = (file: string): StageRequest => ({
    run: {
      id: 'r1',
      number: 1,
      pipeline: 'demo',
      kind: 'train',
      requestedBy: 'alice',
      params: {},
      spec: demoSpec({ source: { type: 'csv', path: file } }),
    },
    stage: 'ingest',
    attempt: 1,
    inputs: {},
  });
  const hooks = { onProgress() {}, signal: new AbortController().signal };
  const module = new URL('../../src/stages/index.ts', import.meta.url);

  it('check against the configured roots, not only the environment they were started from', async () => {
    const confined = createThreadExecutor(module, { dataRoots: [root] });
    await expect(confined.run(request(secret), hooks)).rejects.toThrow(`ingest: ${refusal(secret)}`);
    await expect(confined.run(request(secret), hooks)).rejects.toMatchObject({ fatal: true });
    expect((await confined.run(request(inside), hooks)).output).toMatchObject({ rows: 40 });
    // This process's own STEWARD_DATA_ROOTS (root) does not let `outside` in, or keep it out.
    const elsewhere = createThreadExecutor(module, { dataRoots: [outside] });
    expect((await elsewhere.run(request(secret), hooks)).output).toMatchObject({ rows: 1 });
  });
});

describe('CSV limits', () => {
  it('refuses a NUL byte with the file, the line and the column', async () => {
    const file = path.join(root, 'nul.csv');
    fs.writeFileSync(
      file,
      csv(40, (i) => (i === 15 ? 'a\0b' : `p${i % 3}`)),
    );
    const message =
      'nul.csv line 17: a cell (column "plan") contains a NUL byte (\\0); CSV sources must be text';
    await expect(readCsvFile(file, { source: 'nul.csv' })).rejects.toThrow(message);
    expect(() => parseCsv(fs.readFileSync(file, 'utf8'), { source: 'nul.csv' })).toThrow(message);
    // Inside a quoted cell that spans lines, the line is the NUL's own.
    expect(() => parseCsv('a,b\n1,"x\ny\0"\n', { source: 'q.csv' })).toThrow(
      'q.csv line 3: a cell (column "b")',
    );
    expect(() => parseCsv('a,b\0\n1,2\n')).toThrow('CSV line 1: the header (column 2) contains a NUL byte');
  });

  it('refuses an oversized cell and an oversized record, naming the limit', async () => {
    const big = 'x'.repeat(MAX_CELL_BYTES + 1);
    expect(() => parseCsv(`a,b\n1,2\n3,${big}\n`, { source: 'big.csv' })).toThrow(
      `big.csv line 3: a cell (column "b") holds ${MAX_CELL_BYTES + 1} bytes, more than the 64 KiB one CSV cell may hold`,
    );
    // Bytes, not characters: 30,000 three-byte characters are 90,000 bytes.
    expect(() => parseCsv(`a\n${'€'.repeat(30_000)}\n`)).toThrow('holds 90000 bytes, more than the 64 KiB');
    const file = path.join(root, 'huge.csv');
    fs.writeFileSync(file, `a,b\n1,2\n3,${'y'.repeat(20 * 1024 * 1024)}\n`);
    await expect(readCsvFile(file)).rejects.toThrow(
      `${file} line 3: a record is longer than 1 MiB, the most one CSV record may hold`,
    );
    expect(() => parseCsv('a,b\n1,"never closed\n2,3\n', { maxRecordBytes: 16 })).toThrow(
      'CSV line 3: a record is longer than 16 bytes',
    );
    expect(parseCsv(`a\n${'z'.repeat(MAX_CELL_BYTES)}\n`).rowCount).toBe(1);
  });

  it('keeps only the start of a long category in the profile', () => {
    const long = (i: number) => `${String(i % 3)}${'v'.repeat(5000)}`;
    const table = parseCsv(`c\n${Array.from({ length: 40 }, (_, i) => long(i)).join('\n')}\n`);
    const [profile] = profileTable(table).profiles;
    expect(profile).toMatchObject({ type: 'categorical', distinct: 3 });
    const values = profile?.type === 'categorical' ? profile.frequencies.map((f) => f.value) : [];
    expect(values).toHaveLength(3);
    for (const value of values) {
      expect(value).toHaveLength(PROFILE_VALUE_CHARS + 1);
      expect(value.endsWith('…')).toBe(true);
    }
  });
});

/** An ingest stage that hands the store a dataset PostgreSQL cannot hold (text and jsonb refuse \0). */
const nulIngest: StageFn = async () => {
  const table = createTable([
    { name: 'plan', type: 'categorical', values: ['a\0b', 'x'] },
    { name: 'churned', type: 'numeric', values: Float64Array.from([0, 1]) },
  ]);
  const profile = profileTable(table);
  return {
    output: { datasetHash: profile.hash },
    artifacts: { newDataset: { hash: profile.hash, source: { type: 'csv' }, table, profile } },
  };
};

/**
 * A store whose write fails the way drizzle reports a connection lost mid-insert: the error
 * quotes the query and its parameters (here, gzipped bytes full of NULs) and has no SQLSTATE.
 */
const brokenStore: StageStore = {
  load: async () => ({}),
  async save() {
    const content = gzipSync(Buffer.from('plan,churned\nsecret-row-value,1\n'.repeat(50)));
    throw new DrizzleQueryError(
      'insert into "datasets" ("hash", "content") values ($1, $2)',
      ['abc', content.toString('latin1')],
      new Error('Connection terminated unexpectedly'),
    );
  },
};

/** One engine per backend; pipelines pick their stage and store behaviour by name. */
const SPECIAL_INGEST: Record<string, StageFn> = {
  nulstore: nulIngest,
  broken: nulIngest,
  nulmessage: async () => {
    throw new StageFailure('column "plan" has "a\0b", which is not allowed');
  },
};
const pipelineStages: StageSet = {
  ...stages,
  ingest: (request, context) =>
    (SPECIAL_INGEST[request.run.pipeline] ?? (stages.ingest as StageFn))(request, context),
};
const realStore = createStageStore();
const pipelineStore: StageStore = {
  load: (db, request) => realStore.load(db, request),
  save: (tx, request, result) =>
    (request.run.pipeline === 'broken' ? brokenStore : realStore).save(tx, request, result),
};

describe.each(backends())('runs on %s', (backend) => {
  const evilSpec = () => createDirectoryCatalog(pipelinesDir).get('evil');
  const csvSpec = (name: string, file: string) => demoSpec({ name, source: { type: 'csv', path: file } });
  const swapFile = path.join(root, `swap-${backend}.csv`);
  const nulFile = path.join(root, `nul-${backend}.csv`);
  let h: EngineHarness;
  beforeAll(async () => {
    h = await engineHarness(backend, {
      specs: [
        await evilSpec(),
        demoSpec({ name: 'abs', source: { type: 'csv', path: '/etc/passwd' } }),
        csvSpec('swap', swapFile),
        csvSpec('nul', nulFile),
        demoSpec({ name: 'nulstore' }),
        demoSpec({ name: 'broken', retries: 0 }),
        demoSpec({ name: 'nulmessage' }),
      ],
      stages: pipelineStages,
      store: pipelineStore,
    });
  });
  afterAll(() => h?.close());
  const failedEvents = async (runId: string) =>
    (await timeline(h.database.db, runId)).filter((e) => e.type === 'stage.failed').map((e) => e.payload);
  const start = async (pipeline: string) =>
    (await h.engine.createRun({ pipeline, requestedBy: 'alice' })).run;

  it('refuses a run whose CSV lies outside the roots, and creates no run', async () => {
    vi.stubEnv('STEWARD_DATA_ROOTS', '');
    vi.stubEnv('STEWARD_PIPELINES_DIR', pipelinesDir);
    expect((await evilSpec()).source).toMatchObject({ path: secret });
    await expect(start('evil')).rejects.toThrow(refusal(secret));
    await expect(start('abs')).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('source.path /etc/passwd is outside the allowed data roots'),
    });
    expect(await h.database.db.select().from(runs)).toEqual([]);
  });

  it('refuses, at ingest, a file swapped for a link after the run was requested: fatal, nothing read', async () => {
    fs.writeFileSync(swapFile, csv());
    const run = await start('swap');
    fs.rmSync(swapFile);
    fs.symlinkSync(secret, swapFile);
    await h.drain();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('failed');
    expect(await failedEvents(run.id)).toEqual([
      expect.objectContaining({
        stage: 'ingest',
        cause: 'fatal',
        error: `ingest: ${refusal(swapFile, true)}`,
      }),
    ]);
    expect(opened()).not.toContain(secret);
  });

  it('ends a run whose CSV holds a NUL byte at once, naming the line', async () => {
    fs.writeFileSync(
      nulFile,
      csv(40, (i) => (i === 15 ? 'a\0b' : `p${i % 3}`)),
    );
    const run = await start('nul');
    await h.drain();
    expect(await failedEvents(run.id)).toEqual([
      expect.objectContaining({
        cause: 'fatal',
        error: `ingest: nul-${backend}.csv line 17: a cell (column "plan") contains a NUL byte (\\0); CSV sources must be text`,
      }),
    ]);
  });

  it('reports a store failure on the timeline with the database’s reason, at once, not as lost', async () => {
    const run = await start('nulstore');
    const t0 = performance.now();
    await h.drain();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('failed');
    const attempts = await stageAttemptsOf(h.database.db, run.id);
    expect(attempts.map((a) => a.status)).toEqual(['failed']);
    expect(await failedEvents(run.id)).toEqual([
      expect.objectContaining({
        cause: 'fatal',
        error:
          "the database refused the stage's result: unsupported Unicode escape sequence (\\u0000 cannot be converted to text.)",
      }),
    ]);
  });

  it('reports a failed write that quotes its parameters by its cause, without them, and not as lost', async () => {
    const run = await start('broken');
    await h.drain();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('failed');
    const [attempt] = await stageAttemptsOf(h.database.db, run.id);
    expect(attempt?.status).toBe('failed');
    const events = await failedEvents(run.id);
    expect(events).toEqual([
      expect.objectContaining({
        cause: 'error',
        error: 'a database query failed: Connection terminated unexpectedly',
      }),
    ]);
    expect(JSON.stringify([events, attempt?.error])).not.toMatch(/params|insert into|presumed lost/);
  });

  it('reports a stage failure whose message holds a NUL byte, with the byte shown as \\0', async () => {
    const run = await start('nulmessage');
    await h.drain();
    expect((await findRun(h.database.db, { id: run.id }))?.state).toBe('failed');
    expect(await failedEvents(run.id)).toEqual([
      expect.objectContaining({ cause: 'fatal', error: 'column "plan" has "a\\0b", which is not allowed' }),
    ]);
  });
});
