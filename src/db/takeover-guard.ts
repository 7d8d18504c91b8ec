import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const GUARD_NAME = 'steward.lock.takeover';

/**
 * A live holder keeps the guard for a few milliseconds; one this old was left by a process
 * that died holding it. Worry if a holder can stall longer than this (a paused VM): a guard
 * taken from it lets two processes take over at once.
 */
export const GUARD_STALE_MS = 2000;

/**
 * Runs `takeOver` while holding the data dir's takeover guard, so that only one process at
 * a time decides a lock is stale and replaces it. Returns undefined, having run nothing,
 * when another process holds the guard: the caller waits a little and tries again.
 */
export function withTakeoverGuard<T>(dataDir: string, takeOver: () => T): T | undefined {
  const file = path.join(dataDir, GUARD_NAME);
  const mine = `${process.pid} ${randomUUID()}`;
  try {
    fs.writeFileSync(file, mine, { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    clearCrashedGuard(file);
    return undefined;
  }
  try {
    return takeOver();
  } finally {
    if (readText(file) === mine) fs.rmSync(file, { force: true });
  }
}

/**
 * Removes a guard older than GUARD_STALE_MS. It is moved aside before it is deleted and its
 * age checked again, because between our look and our move its crashed owner's guard may
 * have been cleared and a live process may have taken a fresh one; that one is put back.
 */
function clearCrashedGuard(file: string): void {
  if (!isStale(file)) return;
  const aside = `${file}.${process.pid}.${randomUUID()}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (!isStale(aside)) fs.linkSync(aside, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function isStale(file: string): boolean {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat !== undefined && Date.now() - stat.mtimeMs > GUARD_STALE_MS;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
