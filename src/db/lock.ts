import fs from 'node:fs';
import path from 'node:path';
import { StewardError } from '../errors.ts';

/** What the lock file says about the process that holds the data dir. */
export type LockInfo = { pid: number; command: string; port?: number; startedAt: string };

export type DataDirLock = {
  readonly path: string;
  /** Records the HTTP port so that a CLI in another terminal can talk to this process. */
  setPort(port: number): void;
  release(): void;
};

const LOCK_NAME = 'steward.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads the lock of a data dir; undefined when nobody (alive) holds it. */
export function readLock(dataDir: string): LockInfo | undefined {
  const file = path.join(dataDir, LOCK_NAME);
  let info: LockInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
  return isAlive(info.pid) && info.pid !== process.pid ? info : undefined;
}

export function describeHolder(info: LockInfo): string {
  const port = info.port ? `, serving on port ${info.port}` : '';
  return `process ${info.pid} (steward ${info.command}${port}, since ${info.startedAt})`;
}

/**
 * PGlite does not lock its data dir, and two processes writing it corrupt it. This lock
 * file makes the second process fail with a message naming the first. A lock left by a
 * dead process is taken over.
 */
export function acquireLock(dataDir: string, command: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, LOCK_NAME);
  const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
  for (let tries = 0; tries < 3; tries++) {
    try {
      fs.writeFileSync(file, JSON.stringify(info), { flag: 'wx' });
      let released = false;
      return {
        path: file,
        setPort(port) {
          info.port = port;
          fs.writeFileSync(file, JSON.stringify(info));
        },
        release() {
          if (released) return;
          released = true;
          fs.rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(dataDir);
      if (holder) {
        throw new StewardError(
          'DATA_DIR_LOCKED',
          `the data dir ${dataDir} is in use by ${describeHolder(holder)}. ` +
            'Stop that process, use another STEWARD_DATA_DIR, or run the CLI against it (it finds the server by itself).',
        );
      }
      // The holder is dead: the lock is stale. Remove it and try again; `wx` settles races.
      fs.rmSync(file, { force: true });
    }
  }
  throw new StewardError(
    'DATA_DIR_LOCKED',
    `could not take the lock ${file}; remove it if no Steward is running`,
  );
}
