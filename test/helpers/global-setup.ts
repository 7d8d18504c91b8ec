import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Gives this test run its own PGlite template file, removed at the end. */
export default function setup() {
  const id = `${process.pid}-${Date.now()}`;
  process.env.STEWARD_TEST_RUN = id;
  return () => {
    fs.rmSync(path.join(os.tmpdir(), `steward-test-template-${id}.tar.gz`), { force: true });
  };
}
