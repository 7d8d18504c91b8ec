import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StewardError } from '../errors.ts';
import {
  createComplete,
  isAlive,
  type LockFile,
  LockInfo,
  readLockFile,
  replaceComplete,
} from './lock-file.ts';
import { GUARD_STALE_MS, withTakeoverGuard } from './takeover-guard.ts';

export { LockInfo };

export type DataDirLock = {
  readonly path: string;
  /** Records the HTTP port so that a CLI in another terminal can talk to this process. */
  setPort(port: number): void;
  /** Removes the lock file, unless it is no longer ours. */
  release(): void;
};

const LOCK_NAME = 'steward.lock';

/**
 * Steward links its lock into place complete, so an unparseable lock was written by an older
 * Steward (which created the file, then filled it) or was damaged. Younger than this, its
 * writer may still be filling it and we wait; older, it is debris and is taken over.
 */
const UNSETTLED_MS = 2000;

/**
 * How long acquireLock waits out a half-written lock or another process's takeover. Longer
 * than GUARD_STALE_MS, so that a guard left by a crash is cleared within it.
 */
const WAIT_MS = GUARD_STALE_MS + 1000;

/** Tokens of the locks this process holds. A lock with our pid and another token is stale. */
const heldHere = new Set<string>();

type Verdict =
  | { kind: 'free' }
  | { kind: 'held'; info: LockInfo }
  | { kind: 'stale' }
  | { kind: 'unsettled' };

/**
 * Whether a lock file keeps us out. A lock with our own pid that this process does not
 * hold was left by an earlier process with the same pid (in a container Steward is often
 * pid 1 every time), so it is stale like a dead process's.
 */
function judge(found: LockFile): Verdict {
  if (found.kind === 'missing') return { kind: 'free' };
  if (found.kind === 'unparseable') return { kind: found.ageMs < UNSETTLED_MS ? 'unsettled' : 'stale' };
  const { info } = found;
  const held =
    info.pid === process.pid ? info.token !== undefined && heldHere.has(info.token) : isAlive(info.pid);
  return held ? { kind: 'held', info } : { kind: 'stale' };
}

/** Reads the lock of a data dir; undefined when nobody else (alive) holds it. */
export function readLock(dataDir: string): LockInfo | undefined {
  try {
    const found = readLockFile(path.join(dataDir, LOCK_NAME));
    if (found.kind !== 'lock' || found.info.pid === process.pid) return undefined;
    return isAlive(found.info.pid) ? found.info : undefined;
  } catch {
    return undefined; // unreadable: acquireLock will say why
  }
}

export function describeHolder(info: LockInfo): string {
  const port = info.port ? `, serving on port ${info.port}` : '';
  return `process ${info.pid} (steward ${info.command}${port}, since ${info.startedAt})`;
}

/**
 * PGlite does not lock its data dir, and two processes writing it corrupt it. This lock
 * file makes the second process fail with a message naming the first. A lock left by a
 * dead process is taken over, by one process at a time (see withTakeoverGuard).
 */
export function acquireLock(dataDir: string, command: string): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, LOCK_NAME);
  const info: OurLock = {
    pid: process.pid,
    command,
    startedAt: new Date().toISOString(),
    token: randomUUID(),
  };
  const content = JSON.stringify(info);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = judge(readLockFile(file));
    if (found.kind === 'held') throw inUse(dataDir, found.info);
    // Ours unless it was taken from us at once, which only a stalled guard holder could do.
    if (take(found, dataDir, file, content) && isOurs(file, info)) return hold(file, info);
    if (Date.now() > deadline) {
      throw new StewardError(
        'DATA_DIR_LOCKED',
        `could not take the lock ${file} within ${WAIT_MS / 1000} s: it stayed half-written or other processes kept taking it over. Try again; if no Steward is running, remove it`,
      );
    }
    // A free lock that we did not get has a new holder: look at it at once. Otherwise wait.
    if (found.kind !== 'free') pause(5 + Math.random() * 10);
  }
}

function take(found: Verdict, dataDir: string, file: string, content: string): boolean {
  switch (found.kind) {
    case 'free':
      return createComplete(file, content);
    case 'stale':
      return withTakeoverGuard(dataDir, () => replaceStale(file, content)) === true;
    default:
      return false; // unsettled: wait for its writer
  }
}

/** Run while holding the takeover guard: the lock is looked at again, since it may have changed hands. */
function replaceStale(file: string, content: string): boolean {
  const found = judge(readLockFile(file));
  if (found.kind === 'stale') fs.rmSync(file, { force: true });
  else if (found.kind !== 'free') return false;
  return createComplete(file, content);
}

type OurLock = LockInfo & { token: string };

function hold(file: string, info: OurLock): DataDirLock {
  heldHere.add(info.token);
  let released = false;
  return {
    path: file,
    setPort(port) {
      if (!isOurs(file, info)) {
        throw new StewardError('DATA_DIR_LOCKED', `the lock ${file} is no longer held by this process`);
      }
      info.port = port;
      replaceComplete(file, JSON.stringify(info));
    },
    release() {
      if (released) return;
      released = true;
      heldHere.delete(info.token);
      if (isOurs(file, info)) fs.rmSync(file, { force: true });
    },
  };
}

function inUse(dataDir: string, holder: LockInfo): StewardError {
  return new StewardError(
    'DATA_DIR_LOCKED',
    `the data dir ${dataDir} is in use by ${describeHolder(holder)}. ` +
      'Stop that process, use another STEWARD_DATA_DIR, or run the CLI against it (it finds the server by itself).',
  );
}

/** Whether the lock file is the one `info` describes: same pid and same token. */
function isOurs(file: string, info: LockInfo): boolean {
  const found = readLockFile(file);
  return found.kind === 'lock' && found.info.pid === info.pid && found.info.token === info.token;
}

const pauser = new Int32Array(new SharedArrayBuffer(4));
/** acquireLock is synchronous (it runs before anything else starts), so it waits by blocking. */
function pause(ms: number): void {
  Atomics.wait(pauser, 0, 0, ms);
}
