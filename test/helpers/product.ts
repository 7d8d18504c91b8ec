import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Proc } from './processes.ts';
import { keepLog } from './suite-logs.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `node bin/steward.js …` from the repository, as `npm start` runs it: Steward's own
 * stages and the repository's `pipelines/`.
 */
export function spawnProduct(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child: ChildProcess = spawn(process.execPath, ['bin/steward.js', ...args], {
    cwd: REPO,
    env: { ...process.env, DATABASE_URL: '', STEWARD_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  child.stdout?.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      keepLog(`steward-${args[0] ?? 'process'}-${child.pid}`, chunks.join(''));
      resolve(code);
    }),
  );
  return { child, output: () => chunks.join(''), exited };
}
