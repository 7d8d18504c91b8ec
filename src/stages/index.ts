import { checks } from './pipeline/checks.ts';
import { deploy } from './pipeline/deploy.ts';
import { evaluate } from './pipeline/evaluate.ts';
import { features } from './pipeline/features.ts';
import { ingest } from './pipeline/ingest.ts';
import { train } from './pipeline/train.ts';
import type { StageSet } from './stage.ts';

/**
 * The stages this build of Steward ships. The run engine loads this module in a worker
 * thread by URL (see `src/workflows/stage-executor.ts`); their storage is `store.ts`.
 */
export const stages: StageSet = { ingest, checks, features, train, evaluate, deploy };
