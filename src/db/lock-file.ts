import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { z } from 'zod';

/** What the lock file says about the process that holds the data dir. */
export const LockInfo = z.object({
  pid: z.number().int().positive(),
  command: z.string(),
  port: z.number().int().optional(),
  startedAt: z.string(),
  /** Tells this holder's lock from a later one with the same pid. Older Stewards wrote none. */
  token: z.string().optional(),
});
export type LockInfo = z.infer<typeof LockInfo>;

/** What is at the lock's path: nothing, a lock we can read, or bytes we cannot. */
export type LockFile =
  | { kind: 'missing' }
  | { kind: 'lock'; info: LockInfo }
  | { kind: 'unparseable'; ageMs: number };

export function readLockFile(file: string): LockFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  const parsed = LockInfo.safeParse(parseJson(text));
  if (parsed.success) return { kind: 'lock', info: parsed.data };
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat ? { kind: 'unparseable', ageMs: Date.now() - stat.mtimeMs } : { kind: 'missing' };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Creates `file` holding `content`, or returns false when it exists. The content goes to a
 * temp file first and is hard-linked into place, which fails atomically if the name is taken:
 * nobody ever sees the file empty or half-written.
 */
export function createComplete(file: string, content: string): boolean {
  const temp = writeTemp(file, content);
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    fs.rmSync(temp, { force: true });
  }
}

/** Replaces `file` with `content` in one step (rename), never truncating it in place. */
export function replaceComplete(file: string, content: string): void {
  const temp = writeTemp(file, content);
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

/**
 * Writes a uniquely named sibling of `file`, synced to disk before anyone links to it. A
 * crash between writing and removing it leaves a `*.tmp` file that nothing reads.
 */
function writeTemp(file: string, content: string): string {
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  const fd = fs.openSync(temp, 'wx');
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return temp;
}
