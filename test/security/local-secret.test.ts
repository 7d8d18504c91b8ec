import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { secretPath } from '../../src/http/local-secret.ts';

const MODULE = fileURLToPath(new URL('../../src/http/local-secret.ts', import.meta.url));

/** Runs `ensureLocalSecret(dir)` in a process of its own, starting at the wall-clock instant `at`. */
function ensureInProcess(dir: string, at: number): Promise<string> {
  const script = `
    const { ensureLocalSecret } = await import(${JSON.stringify(MODULE)});
    while (Date.now() < ${at}) {}
    process.stdout.write(ensureLocalSecret(${JSON.stringify(dir)}));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(err))));
  });
}

describe("the data dir's secret", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-secret-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is one secret, whole and owner-only, when four processes make it at the same instant', async () => {
    for (let round = 0; round < 3; round++) {
      const dir = path.join(root, `data-${round}`);
      // Far enough ahead for every process to have loaded tsx and the module.
      const at = Date.now() + 2500;
      const secrets = await Promise.all([1, 2, 3, 4].map(() => ensureInProcess(dir, at)));
      const stored = fs.readFileSync(secretPath(dir), 'utf8').trim();
      expect(stored).toMatch(/^stl_[\w-]{43}$/);
      expect(secrets).toEqual([stored, stored, stored, stored]);
      expect(fs.statSync(secretPath(dir)).mode & 0o777).toBe(0o600);
      expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
      expect(fs.readdirSync(dir)).toEqual(['secret']); // no temp files left behind
    }
  });
});
