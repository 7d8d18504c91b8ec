import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findLeaks, suiteLogDir } from './suite-logs.ts';

/**
 * Gives this test run its own PGlite templates (a tarball and a data dir), removed at the end. At the end the
 * logs of the whole run are searched for tokens, passwords and dataset bytes: finding one
 * fails the run.
 */
export default function setup() {
  const id = `${process.pid}-${Date.now()}`;
  process.env.STEWARD_TEST_RUN = id;
  return () => {
    fs.rmSync(path.join(os.tmpdir(), `steward-test-template-${id}.tar.gz`), { force: true });
    fs.rmSync(path.join(os.tmpdir(), `steward-test-pgdata-${id}`), { recursive: true, force: true });
    const dir = suiteLogDir(id);
    const leaks = findLeaks(dir);
    if (leaks.length)
      throw new Error(`the suite's logs (${dir}) hold what they never should:\n  ${leaks.join('\n  ')}`);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
