import type { StageFn } from '../stage.ts';

/**
 * Deploy: the production alias is moved by the stage store (`deploy` in `store.ts`, with
 * the decisions of `deploy-plan.ts`), in the same transaction that records the stage as
 * done, so a deployment happens exactly once and a cancelled one not at all. The stage
 * itself only names what it was asked to ship.
 */
export const deploy: StageFn = async (request) => ({
  output: { requested: request.run.params.version ?? null },
});
