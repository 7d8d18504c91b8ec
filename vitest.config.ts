import os from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest's default is one file at a time on two cores; most files spend their time waiting
    // on child processes, worker threads and the database, so two side by side finish sooner.
    maxWorkers: Math.max(2, os.availableParallelism() - 1),
    globalSetup: ['test/helpers/global-setup.ts'],
  },
});
