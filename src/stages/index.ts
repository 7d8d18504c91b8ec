import type { StageSet } from './stage.ts';

/**
 * The stages this build of Steward ships. The run engine loads this module in a worker
 * thread by URL (see `src/workflows/stage-executor.ts`).
 */
export const stages: StageSet = {};
