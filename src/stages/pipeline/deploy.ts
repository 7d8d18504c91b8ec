import type { StageFn } from '../stage.ts';

/**
 * Deploy: the production pointer is moved by the stage store, in the same transaction that
 * records the stage as done, so a deployment happens exactly once. Strategies (shadow,
 * canary) and serving arrive with the deployment issue and will do their work here.
 */
export const deploy: StageFn = async (request) => ({
  output: { requested: request.run.params.version ?? null },
});
