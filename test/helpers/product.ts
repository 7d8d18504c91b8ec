import { fileURLToPath } from 'node:url';
import { type Proc, spawnNode } from './processes.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/**
 * `node bin/steward.js …` from the repository, as `npm start` runs it: Steward's own
 * stages and the repository's `pipelines/`.
 */
export function spawnProduct(args: string[], env: NodeJS.ProcessEnv): Proc {
  const full = { ...process.env, DATABASE_URL: '', STEWARD_LOG_LEVEL: 'info', ...env };
  return spawnNode(['bin/steward.js', ...args], full, args[0], REPO);
}
