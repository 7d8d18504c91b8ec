import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONFIG_VARIABLES, loadConfig } from '../src/config.ts';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const read = (file: string) => fs.readFileSync(`${REPO}${file}`, 'utf8');

type Instruction = { op: string; args: string };
/** The Dockerfile's stages, each its instructions in order (continuation lines joined, comments dropped). */
function dockerStages(text: string): { from: string; name?: string; instructions: Instruction[] }[] {
  const stages: { from: string; name?: string; instructions: Instruction[] }[] = [];
  const logical = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (op.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args) ?? [];
      stages.push({ from, ...(name ? { name } : {}), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}
const argsOf = (instructions: Instruction[], op: string) =>
  instructions.filter((i) => i.op === op).map((i) => i.args);
const exec = (args: string) => JSON.parse(args) as string[];

/** KEY=value lines of an env file, comments and blank lines skipped. */
function envFile(text: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match?.[1]) throw new Error(`not a KEY=value line: ${line}`);
    entries[match[1]] = match[2] ?? '';
  }
  return entries;
}

/**
 * Variables Steward reads outside `loadConfig`, with where: the log format (src/log.ts) and
 * the LLM providers' API keys (src/bot/commands/chat-model.ts).
 */
const READ_ELSEWHERE: Record<string, string> = {
  STEWARD_LOG_FORMAT: 'src/log.ts',
  OPENAI_API_KEY: 'src/bot/commands/chat-model.ts',
  ANTHROPIC_API_KEY: 'src/bot/commands/chat-model.ts',
};

describe('Dockerfile', () => {
  const stages = dockerStages(read('Dockerfile'));
  const runtime = stages.at(-1) ?? { from: '', instructions: [] };
  const build = stages[0] ?? { from: '', instructions: [] };
  const env = Object.fromEntries(
    argsOf(runtime.instructions, 'ENV').flatMap((args) =>
      [...args.matchAll(/([A-Z_]+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]),
    ),
  );

  it('builds in one stage and runs in another, both on node:20-bookworm-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toBe('node:20-bookworm-slim');
    expect(argsOf(build.instructions, 'RUN').join('\n')).toMatch(/npm ci\b(?!.*--omit=dev)/);
    // The runtime ships what the build stage checked (a stage nothing copies from is skipped by BuildKit).
    expect(argsOf(runtime.instructions, 'COPY').some((a) => a.startsWith(`--from=${build.name}`))).toBe(true);
    expect(argsOf(build.instructions, 'RUN')).toContain('npm run typecheck');
  });

  it('installs only production dependencies at runtime, without tfjs-node', () => {
    const runs = argsOf(runtime.instructions, 'RUN').join('\n');
    expect(runs).toMatch(/npm ci [^\n]*--omit=dev/);
    expect(runs).toContain('rm -rf node_modules/@tensorflow/tfjs-node');
    // tsx runs Steward's TypeScript: it must be a production dependency, or `--omit=dev` drops it.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('runs as the non-root user node, `steward start` by default', () => {
    const users = argsOf(runtime.instructions, 'USER');
    expect(users.at(-1)).toBe('node');
    const ops = runtime.instructions.map((i) => i.op);
    expect(ops.lastIndexOf('USER')).toBeLessThan(ops.indexOf('ENTRYPOINT'));
    const entrypoint = exec(argsOf(runtime.instructions, 'ENTRYPOINT')[0] ?? '[]');
    const cmd = exec(argsOf(runtime.instructions, 'CMD')[0] ?? '[]');
    expect([...entrypoint, ...cmd]).toEqual(['steward', 'start']);
    expect(argsOf(runtime.instructions, 'RUN').join('\n')).toContain(
      'ln -s /app/bin/steward.js /usr/local/bin/steward',
    );
  });

  it('has a health check on /healthz, a font for charts, the data dir on a volume and both ports exposed', () => {
    const [healthcheck] = argsOf(runtime.instructions, 'HEALTHCHECK');
    expect(healthcheck).toMatch(/CMD \["node", "\/app\/deploy\/healthcheck\.mjs"\]$/);
    expect(argsOf(runtime.instructions, 'COPY').join('\n')).toContain('deploy/healthcheck.mjs');
    const apt = argsOf(runtime.instructions, 'RUN').find((r) => r.includes('apt-get install')) ?? '';
    expect(apt).toContain('fonts-dejavu-core');
    // resvg finds system fonts through /etc/fonts/fonts.conf: without it, charts have no text.
    expect(apt).toContain('fontconfig-config');
    expect(env.STEWARD_DATA_DIR).toBe('/var/lib/steward');
    expect(argsOf(runtime.instructions, 'VOLUME')).toEqual(['["/var/lib/steward"]']);
    expect(env).toMatchObject({ HOST: '0.0.0.0', PORT: '3000', STEWARD_METRICS_PORT: '9464' });
    expect(argsOf(runtime.instructions, 'EXPOSE')).toEqual(['3000 9464']);
  });

  it('sets only variables Steward reads, with values it accepts', () => {
    for (const name of Object.keys(env)) {
      if (name !== 'NODE_ENV') expect(CONFIG_VARIABLES).toContain(name);
    }
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('leaves node_modules, local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['node_modules', '.git', '.steward', '.env', 'deploy/.env']) {
      expect(ignored).toContain(entry);
    }
  });
});

describe('deploy/healthcheck.mjs', () => {
  let ok: http.Server;
  let down: http.Server;
  const portOf = (s: http.Server) => String((s.address() as { port: number }).port);
  beforeAll(async () => {
    ok = http.createServer((req, res) => {
      res.writeHead(req.url === '/healthz' ? 200 : 404).end('{"status":"ok"}');
    });
    down = http.createServer((_req, res) => {
      res.writeHead(503).end('{"status":"unavailable","database":{"ok":false}}');
    });
    await Promise.all([ok, down].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  });
  afterAll(() => {
    ok.close();
    down.close();
  });
  function probe(args: string[], env: NodeJS.ProcessEnv = {}) {
    return new Promise<{ code: number; err: string }>((resolve) => {
      execFile(
        process.execPath,
        [`${REPO}deploy/healthcheck.mjs`, ...args],
        { env: { PATH: process.env.PATH, ...env } },
        (error, _out, err) => resolve({ code: error ? Number(error.code) : 0, err }),
      );
    });
  }
  /** A port nothing listens on: one that was just free. */
  async function closedPort() {
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = portOf(s);
    await new Promise((r) => s.close(r));
    return port;
  }

  it('passes when /healthz answers 200 and fails, showing the answer, when it answers 503', async () => {
    expect(await probe([portOf(ok)])).toEqual({ code: 0, err: '' });
    const sick = await probe([portOf(down)]);
    expect(sick.code).toBe(1);
    expect(sick.err).toContain('HTTP 503 {"status":"unavailable","database":{"ok":false}}');
  });

  it('without arguments, passes for a worker (STEWARD_METRICS_PORT) as for `steward start` (PORT)', async () => {
    const nothing = await closedPort();
    expect((await probe([], { PORT: nothing, STEWARD_METRICS_PORT: portOf(ok) })).code).toBe(0);
    expect((await probe([], { PORT: portOf(ok), STEWARD_METRICS_PORT: nothing })).code).toBe(0);
    const neither = await probe([], { PORT: nothing, STEWARD_METRICS_PORT: nothing });
    expect(neither.code).toBe(1);
    expect(neither.err).toContain('ECONNREFUSED');
  });
});

describe('deploy/compose.yaml and deploy/.env.example', () => {
  type Service = {
    image?: string;
    command?: string[];
    environment?: Record<string, string>;
    env_file?: string;
    volumes?: string[];
    depends_on?: Record<string, { condition: string }>;
    healthcheck?: { test: string[] };
    deploy?: { replicas?: number };
    stop_grace_period?: string;
  };
  const compose = parse(read('deploy/compose.yaml'), { merge: true }) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };
  const { postgres, steward, worker } = compose.services as Record<string, Service>;
  const example = envFile(read('deploy/.env.example'));

  it('runs PostgreSQL 15 with a health check and its data on a volume', () => {
    expect(postgres?.image).toBe('postgres:15');
    expect(postgres?.healthcheck?.test.join(' ')).toContain('pg_isready');
    const [volume] = (postgres?.volumes ?? []).map((v) => v.split(':'));
    expect(volume?.[1]).toBe('/var/lib/postgresql/data');
    expect(Object.keys(compose.volumes)).toContain(volume?.[0]);
  });

  it('runs one `steward start` and two workers, each with its health check', () => {
    expect(steward?.command).toEqual(['start']);
    expect(steward?.deploy?.replicas ?? 1).toBe(1);
    expect(steward?.healthcheck?.test.join(' ')).toMatch(/healthcheck\.mjs \$\$\{PORT:-3000\}$/);
    expect(worker?.command).toEqual(['worker']);
    expect(worker?.deploy?.replicas).toBe(2);
    expect(worker?.healthcheck?.test.join(' ')).toMatch(
      /healthcheck\.mjs \$\$\{STEWARD_METRICS_PORT:-9464\}$/,
    );
  });

  it('starts Steward once PostgreSQL is healthy, and the workers once `steward start` is (it migrates first)', () => {
    expect(steward?.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    expect(worker?.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      steward: { condition: 'service_healthy' },
    });
  });

  it('gives every Steward process the database, the env file, and the pipelines read-only', () => {
    for (const service of [steward, worker]) {
      expect(service?.environment?.DATABASE_URL).toMatch(/^postgres:\/\/steward:.*@postgres:5432\/steward$/);
      expect(service?.env_file).toBe('.env');
      expect(service?.volumes).toContain('../pipelines:/srv/steward/pipelines:ro');
      for (const name of Object.keys(service?.environment ?? {})) expect(CONFIG_VARIABLES).toContain(name);
    }
  });

  it('stops a process only after its stages have had their grace period', () => {
    const grace = Number(example.STEWARD_SHUTDOWN_GRACE_SECONDS);
    for (const service of [steward, worker]) {
      expect(Number.parseInt(service?.stop_grace_period ?? '10', 10)).toBeGreaterThan(grace);
    }
  });

  it('names only variables Steward reads in .env.example', () => {
    const names = Object.keys(example);
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      if (name in READ_ELSEWHERE) {
        expect(read(READ_ELSEWHERE[name] as string)).toContain(`env.${name}`);
      } else {
        expect(CONFIG_VARIABLES, `${name} is not a variable Steward reads`).toContain(name);
      }
    }
  });

  it('leaves every secret empty', () => {
    for (const name of Object.keys(example).filter((n) => /SLACK_|TOKEN|SECRET|API_KEY/.test(n))) {
      expect(example[name], name).toBe('');
    }
    expect(Object.keys(example)).toEqual(
      expect.arrayContaining([
        'SLACK_BOT_TOKEN',
        'SLACK_SIGNING_SECRET',
        'SLACK_APP_TOKEN',
        'STEWARD_API_TOKEN',
      ]),
    );
  });

  it('is a valid environment as shipped, with what compose and the image add', () => {
    const image = { HOST: '0.0.0.0', PORT: '3000', STEWARD_PIPELINES_DIR: '/srv/steward/pipelines' };
    const database = { DATABASE_URL: 'postgres://steward:steward@postgres:5432/steward' };
    const config = loadConfig({ ...image, ...example, ...database });
    expect(config).toMatchObject({
      databaseUrl: database.DATABASE_URL,
      console: 'off',
      servingAuth: 'token',
    });
    expect(config.dataRoots).toEqual(['/srv/steward']);
  });
});
