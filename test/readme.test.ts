import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../src/config.ts';
import { parseSpec } from '../src/stages/catalog.ts';
import { pipelineJsonSchema } from '../src/stages/spec.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const README = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
const SCHEMA_FILE = path.join(REPO, 'pipelines', 'pipeline.schema.json');

/** The README's `## <heading>` section, up to the next `## ` heading. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The first cell of each table row of `text`, without its backticks: the names a table documents. */
function tableKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const line of text.split('\n')) {
    const cell = /^\|\s*`([^`]+)`\s*\|/.exec(line);
    if (cell?.[1]) keys.add(cell[1]);
  }
  return keys;
}

type SchemaNode = {
  properties?: Record<string, SchemaNode>;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  allOf?: SchemaNode[];
  items?: SchemaNode | SchemaNode[];
};

/** Every property path of a JSON Schema (`source.query`, `model.params` …), through unions and arrays. */
function propertyPaths(node: SchemaNode, prefix = ''): string[] {
  const paths: string[] = [];
  for (const branch of [...(node.oneOf ?? []), ...(node.anyOf ?? []), ...(node.allOf ?? [])]) {
    paths.push(...propertyPaths(branch, prefix));
  }
  for (const item of [node.items ?? []].flat()) paths.push(...propertyPaths(item, prefix));
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const full = prefix ? `${prefix}.${name}` : name;
    paths.push(full, ...propertyPaths(child, full));
  }
  return [...new Set(paths)];
}

/** The bash block right after `<!-- quick-start -->`. */
function quickStart(): string {
  const block = /<!-- quick-start -->\n```bash\n([\s\S]*?)\n```/.exec(README)?.[1];
  if (!block) throw new Error('README.md has no ```bash block right after <!-- quick-start -->');
  return block;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('README.md', () => {
  it('has every field of the pipeline spec in its spec reference table', () => {
    const schema = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')) as SchemaNode;
    const paths = propertyPaths(schema);
    // The walk reaches into every union: the sources' own fields, the nested sections.
    expect(paths).toEqual(expect.arrayContaining(['source.query', 'source.drift', 'monitoring.drift.tests']));
    const documented = tableKeys(section('Pipeline specs'));
    expect(paths.filter((p) => !documented.has(p))).toEqual([]);
    // And nothing in the table that the spec does not have.
    expect([...documented].filter((p) => !paths.includes(p))).toEqual([]);
  });

  it('shows a spec that Steward accepts', () => {
    const examples = [...section('Pipeline specs').matchAll(/```yaml\n([\s\S]*?)```/g)].map(
      (m) => m[1] ?? '',
    );
    expect(examples.length).toBeGreaterThan(0);
    for (const example of examples) expect(parseSpec(example, 'README.md').name).toBe('churn');
  });

  it('reads its spec reference from the schema `steward pipeline schema` prints', () => {
    const file = JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8'));
    expect(file, 'pipelines/pipeline.schema.json is stale: steward pipeline schema > it').toEqual(
      JSON.parse(JSON.stringify(pipelineJsonSchema())),
    );
  });

  it('has every environment variable Steward reads in its Configuration table', () => {
    const documented = tableKeys(section('Configuration'));
    expect(CONFIG_VARIABLES.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('links only to headings it has', () => {
    // GitHub's anchors: the heading in lower case, punctuation dropped, spaces as dashes.
    const slug = (heading: string) =>
      heading
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, '')
        .replaceAll(' ', '-');
    const anchors = new Set([...README.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
    const links = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1] ?? '');
    expect(links.length).toBeGreaterThan(0);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });

  // The quick start runs on the embedded database whatever DATABASE_URL says, so the
  // PostgreSQL leg of the suite would only repeat it.
  describe.runIf(!process.env.DATABASE_URL)('the quick start, pasted in order beside `steward start`', () => {
    let server: ChildProcess | undefined;
    let exited: Promise<unknown> | undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-readme-'));

    afterAll(async () => {
      if (server && server.exitCode === null) {
        server.kill('SIGTERM');
        const stopped = await Promise.race([exited, sleep(15_000, 'timeout')]);
        if (stopped === 'timeout') {
          server.kill('SIGKILL');
          await exited;
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }, 30_000);

    it('runs as a bash script and exits 0', async () => {
      const port = await freePort();
      // Only what the quick start sets: no Steward or Slack variables of the caller's.
      const env: NodeJS.ProcessEnv = Object.fromEntries(
        Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_)/.test(name)),
      );
      Object.assign(env, {
        STEWARD_DATA_DIR: path.join(dir, 'data'),
        DATABASE_URL: '',
        PORT: String(port),
        HOST: '127.0.0.1',
      });
      const serverOutput: string[] = [];
      server = spawn(process.execPath, ['bin/steward.js', 'start'], {
        cwd: REPO,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      server.stdout?.on('data', (d: Buffer) => serverOutput.push(d.toString()));
      server.stderr?.on('data', (d: Buffer) => serverOutput.push(d.toString()));
      const child = server;
      exited = new Promise((resolve) => child.once('exit', resolve));

      const until = Date.now() + 60_000;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) break;
        if (Date.now() > until || child.exitCode !== null) {
          throw new Error(`steward start did not come up:\n${serverOutput.join('')}`);
        }
        await sleep(250);
      }

      const script = quickStart().replaceAll('localhost:3000', `localhost:${port}`);
      const bash = spawn('bash', ['-euo', 'pipefail', '-c', script], {
        cwd: REPO,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      bash.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      bash.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => bash.once('exit', resolve));
      const report = `exit ${code}\n--- stdout\n${stdout}\n--- stderr\n${stderr}\n--- steward start\n${serverOutput.join('')}`;
      expect(code, report).toBe(0);
      // What the comments in the block promise.
      expect(stdout, report).toMatch(/^#1 churn awaiting approval$/m);
      expect(stdout, report).toMatch(/^#1 churn deployed$/m);
      expect(stdout, report).toMatch(/^churn v1 +production 100%/m);
      expect(stdout, report).toMatch(/\{"predictions":\[\{"label":"[01]","probabilities":/);
      expect(stdout, report).toMatch(/deploy +v1 .* ben/);
    }, 240_000);
  });
});
