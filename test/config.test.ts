import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { acquireLock, readLock } from '../src/db/lock.ts';
import { closest, createDirectoryCatalog, parseSpec } from '../src/stages/catalog.ts';

describe('configuration', () => {
  it('has embedded defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      databaseUrl: undefined,
      port: 3000,
      llm: undefined,
      admins: [],
      leaseMs: 30_000,
    });
    expect(config.dataDir).toBe(path.resolve('.steward'));
  });

  it('names every wrong variable', () => {
    const problems = () => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', STEWARD_URL: 'nope' });
    expect(problems).toThrow('  PORT: must be a port number, 0-65535');
    expect(problems).toThrow('  DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(problems).toThrow('  STEWARD_URL: must be a URL such as http://steward.internal:3000');
  });

  it('requires the Slack HTTP-mode pair together', () => {
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      /SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET/,
    );
  });

  it('treats empty variables as unset and splits STEWARD_ADMINS', () => {
    expect(loadConfig({ DATABASE_URL: '', STEWARD_ADMINS: 'U01, U02 U03' })).toMatchObject({
      databaseUrl: undefined,
      admins: ['U01', 'U02', 'U03'],
    });
  });

  it('gives a variable set to nothing its default: `PORT=` is 3000, not a random port', () => {
    const blank = loadConfig({
      PORT: '',
      STEWARD_METRICS_PORT: ' ',
      STEWARD_LEASE_SECONDS: '',
      STEWARD_CONCURRENCY: '',
      HOST: '',
      STEWARD_DATA_DIR: '',
    });
    expect(blank).toMatchObject({
      port: 3000,
      metricsPort: 9464,
      leaseMs: 30_000,
      concurrency: 2,
      host: '127.0.0.1',
      dataDir: path.resolve('.steward'),
    });
    expect(loadConfig({ PORT: '0' }).port).toBe(0); // 0 still asks for a free port
  });
});

describe('data dir lock', () => {
  it('refuses a second holder, naming the first, and takes over a stale lock', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-lock-'));
    fs.writeFileSync(
      path.join(dir, 'steward.lock'),
      JSON.stringify({ pid: 1, command: 'start', startedAt: 'then' }),
    );
    // pid 1 is alive but it is not ours: the lock is held.
    expect(() => acquireLock(dir, 'start')).toThrow(/in use by process 1 \(steward start, since then\)/);
    fs.writeFileSync(
      path.join(dir, 'steward.lock'),
      JSON.stringify({ pid: 2 ** 22 + 7, command: 'start', startedAt: 'x' }),
    );
    const lock = acquireLock(dir, 'worker');
    lock.setPort(4321);
    expect(JSON.parse(fs.readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, port: 4321 });
    expect(readLock(dir)).toBeUndefined(); // our own lock does not count as someone else's
    lock.release();
    expect(fs.existsSync(lock.path)).toBe(false);
  });
});

describe('pipeline specs', () => {
  const valid =
    'name: churn\ntask: classification\nsource: { type: csv, path: a.csv }\ntarget: churned\nmodel: { type: mlp }\n';

  it('fills in documented defaults', () => {
    const spec = parseSpec(valid, 'churn.yaml');
    expect(spec.approval).toEqual({
      required: true,
      approvers: [],
      min_approvals: 1,
      allow_self_approval: false,
      expires_after: 86_400_000,
    });
    expect(spec.retries).toBe(2);
  });

  it('reports every problem with its path', () => {
    const text =
      'name: Churn!\ntask: clustering\nsource: { type: csv }\nmodel: { type: mlp }\napproval: { expires_after: soon }\n';
    let message = '';
    try {
      parseSpec(text, 'bad.yaml');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^bad\.yaml has 5 problem\(s\):/);
    for (const p of [
      'name:',
      'task:',
      'source.path:',
      'target:',
      'approval.expires_after: expected a duration',
    ]) {
      expect(message).toContain(`  ${p}`);
    }
  });

  it('says which YAML is broken', () => {
    expect(() => parseSpec('name: [unclosed', 'x.yaml')).toThrow(/x\.yaml: not valid YAML/);
  });

  it('loads specs from a directory and suggests a near name', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-specs-'));
    fs.writeFileSync(path.join(dir, 'churn.yaml'), valid);
    const catalog = createDirectoryCatalog(dir);
    expect(await catalog.names()).toEqual(['churn']);
    expect((await catalog.get('churn')).model.type).toBe('mlp');
    await expect(catalog.get('chrn')).rejects.toThrow('pipeline not found: `chrn`. Did you mean `churn`?');
    await expect(createDirectoryCatalog(path.join(dir, 'none')).get('churn')).rejects.toThrow(
      /no pipeline specs in/,
    );
    expect(closest('housing', ['churn', 'housing2'])).toBe('housing2');
    expect(closest('zzz', ['churn'])).toBeUndefined();
  });
});
