import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireLock, type LockInfo } from '../src/db/lock.ts';

const CONTENDER = fileURLToPath(new URL('./fixtures/lock-contender.ts', import.meta.url));
const SET_PORT = fileURLToPath(new URL('./fixtures/lock-set-port.ts', import.meta.url));

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-lock-test-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  const dir = path.join(root, String(dirs++));
  fs.mkdirSync(dir);
  return dir;
}

const lockOf = (dir: string) => path.join(dir, 'steward.lock');

/** The pid of a process that has exited: what a crashed Steward leaves in its lock. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  if (!pid) throw new Error('could not start a process');
  return pid;
}

function writeLock(dir: string, info: LockInfo): void {
  fs.writeFileSync(lockOf(dir), JSON.stringify(info));
}

/** Sets a file's mtime `ms` into the past. */
function age(file: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  fs.utimesSync(file, then, then);
}

type Outcome = { trial: number; pid: number; held: boolean; error?: string };

/** A lock-contender child: its outcomes arrive as it prints them. */
function startContender() {
  const child = spawn(process.execPath, ['--import', 'tsx', CONTENDER], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const outcomes: Outcome[] = [];
  let ready: () => void = () => {};
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as Outcome | { ready: true };
    if ('ready' in message) ready();
    else outcomes.push(message);
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, isReady, outcomes, exited };
}

describe('data dir lock race', () => {
  it('has exactly one holder when three processes take over a stale lock at the same instant, 40 times', async () => {
    const crashed = deadPid();
    const trials = Array.from({ length: 40 }, () => {
      const dir = freshDir();
      writeLock(dir, { pid: crashed, command: 'start', startedAt: new Date().toISOString() });
      return dir;
    });
    const contenders = [startContender(), startContender(), startContender()];
    await Promise.all(contenders.map((c) => c.isReady));
    // Each trial gets its own dir and its own 250 ms slot; the holder lets go once all three
    // have tried, so a contender that comes late under load cannot find the lock free.
    const t0 = Date.now() + 500;
    const plan = {
      contenders: contenders.length,
      trials: trials.map((dir, i) => ({ dir, startAt: t0 + i * 250 })),
    };
    for (const { child } of contenders) child.stdin.end(`${JSON.stringify(plan)}\n`);
    expect(await Promise.all(contenders.map((c) => c.exited))).toEqual([0, 0, 0]);

    const byTrial = trials.map((_, trial) =>
      contenders.map((c) => c.outcomes.find((o) => o.trial === trial)),
    );
    const holders = byTrial.map((outcomes) => outcomes.filter((o) => o?.held).length);
    const wrong = holders.flatMap((count, trial) => (count === 1 ? [] : [{ trial, holders: count }]));
    expect({ trials: holders.length, wrong }).toEqual({ trials: 40, wrong: [] });
    for (const outcomes of byTrial) {
      const winner = outcomes.find((o) => o?.held);
      for (const loser of outcomes.filter((o) => !o?.held)) {
        expect(loser?.error).toContain(`is in use by process ${winner?.pid} (steward test, since `);
      }
    }
  });
});

describe('data dir lock', () => {
  it('names a live holder, with its port, and leaves its lock alone', () => {
    const dir = freshDir();
    const holder = { pid: process.ppid, command: 'start', port: 4321, startedAt: '2024-05-01T10:00:00.000Z' };
    writeLock(dir, holder);
    expect(() => acquireLock(dir, 'start')).toThrow(
      `the data dir ${dir} is in use by process ${process.ppid} (steward start, serving on port 4321, since 2024-05-01T10:00:00.000Z)`,
    );
    expect(JSON.parse(fs.readFileSync(lockOf(dir), 'utf8'))).toEqual(holder);
  });

  it('refuses a second holder in the same process, but takes over a lock left by an earlier process with our pid', () => {
    const dir = freshDir();
    // In a container Steward is often pid 1 every time, so a crash leaves a lock with our pid.
    writeLock(dir, { pid: process.pid, command: 'start', startedAt: 'before the restart' });
    const lock = acquireLock(dir, 'start');
    expect(() => acquireLock(dir, 'worker')).toThrow(
      `is in use by process ${process.pid} (steward start, since `,
    );
    lock.release();
    expect(fs.existsSync(lockOf(dir))).toBe(false);
  });

  it('waits for a half-written lock to be finished instead of taking it over', async () => {
    const dir = freshDir();
    // An older Steward created the file and then wrote it; this one is caught in between.
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const info = JSON.stringify({ pid: process.pid, command: 'start', startedAt: 'now' });
         fs.writeFileSync(process.argv[1], info.slice(0, 10));
         console.log('half');
         setTimeout(() => fs.writeFileSync(process.argv[1], info), 300);
         setTimeout(() => {}, 30000);`,
        lockOf(dir),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await once(writer.stdout, 'data');
      expect(() => acquireLock(dir, 'start')).toThrow(
        `is in use by process ${writer.pid} (steward start, since now)`,
      );
    } finally {
      await stop(writer);
    }
  });

  it('takes over a lock file that stayed unparseable for seconds (corrupt, or left by a crash)', () => {
    for (const content of ['', '{"pid": 12']) {
      const dir = freshDir();
      fs.writeFileSync(lockOf(dir), content);
      age(lockOf(dir), 5000);
      const lock = acquireLock(dir, 'start');
      expect(JSON.parse(fs.readFileSync(lockOf(dir), 'utf8'))).toMatchObject({ pid: process.pid });
      lock.release();
    }
  });

  it('clears a takeover guard left by a crashed process', () => {
    const dir = freshDir();
    writeLock(dir, { pid: deadPid(), command: 'start', startedAt: 'then' });
    const guard = path.join(dir, 'steward.lock.takeover');
    fs.writeFileSync(guard, String(deadPid()));
    age(guard, 5000);
    const lock = acquireLock(dir, 'start');
    expect(fs.existsSync(guard)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual(['steward.lock']); // no temp files left behind
    lock.release();
  });

  it('does not remove a lock that is no longer ours on release', () => {
    const dir = freshDir();
    const lock = acquireLock(dir, 'start');
    const other = { pid: process.ppid, command: 'start', startedAt: 'later' };
    writeLock(dir, other);
    lock.release();
    expect(JSON.parse(fs.readFileSync(lockOf(dir), 'utf8'))).toEqual(other);
  });

  it('keeps the lock file whole while setPort rewrites it', async () => {
    const dir = freshDir();
    const writer = spawn(process.execPath, ['--import', 'tsx', SET_PORT, dir, '1500'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = once(writer, 'exit');
    const ports = new Set<number | undefined>();
    let reads = 0;
    let unparseable = 0;
    const until = Date.now() + 30_000;
    while (!fs.existsSync(path.join(dir, 'done')) && Date.now() < until) {
      let text: string;
      try {
        text = fs.readFileSync(lockOf(dir), 'utf8');
      } catch {
        continue; // not taken yet
      }
      reads++;
      try {
        ports.add((JSON.parse(text) as LockInfo).port);
      } catch {
        unparseable++;
      }
    }
    await exited;
    expect({ unparseable, sawManyPorts: ports.size > 10 }).toEqual({ unparseable: 0, sawManyPorts: true });
    expect(reads).toBeGreaterThan(100);
  });
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = once(child, 'exit');
  child.kill();
  await exited;
}
