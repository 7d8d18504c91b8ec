import type { AliasState } from '../db/schema.ts';
import { StewardError } from '../errors.ts';
import type { DeploySpec } from './spec.ts';

/**
 * What a deployment, a rollback or a promotion does to a pipeline's production alias, as
 * pure decisions over the alias as it is. The deploy stage applies them in the transaction
 * that records it done; the services ask them first, so a request that would change
 * nothing is answered at once instead of becoming a run.
 */
export type AliasPlan =
  | {
      change: true;
      next: AliasState;
      /** The history entry this plan puts back (a rollback applying a stored undo). */
      undoes?: number;
      summary: DeploySummary;
    }
  | { change: false; summary: DeploySummary };

/** What a deploy run reports: production and the candidate beside it, after the stage. */
export type DeploySummary = {
  production: string;
  strategy: AliasState['strategy'];
  candidate?: string;
  percent?: number;
  /** Why nothing changed, when nothing did. */
  unchanged?: string;
};

export const summaryOf = (state: AliasState, unchanged?: string): DeploySummary => ({
  production: `v${state.version}`,
  strategy: state.strategy,
  ...(state.candidate !== null ? { candidate: `v${state.candidate}` } : {}),
  ...(state.strategy === 'canary' && state.canaryPercent !== null ? { percent: state.canaryPercent } : {}),
  ...(unchanged ? { unchanged } : {}),
});

/** How the alias serves, for people: "v3", "v3 with v4 as a 10% canary", "v3 shadowed by v4". */
export function describeAlias(state: AliasState): string {
  if (state.strategy === 'canary')
    return `v${state.version} with v${state.candidate} as a ${state.canaryPercent}% canary`;
  if (state.strategy === 'shadow') return `v${state.version} with v${state.candidate} in shadow`;
  return `v${state.version}`;
}

/** Deploying `version` (a trained run's new one, or the one a deploy run names) with the spec's strategy. */
export function planDeploy(
  pipeline: string,
  before: AliasState | null,
  request: { version: number; runId: string; deploy: DeploySpec },
): AliasPlan {
  const { version, runId, deploy } = request;
  if (before?.version === version && before.strategy === 'replace') {
    return { change: false, summary: summaryOf(before, `${pipeline} v${version} is already in production`) };
  }
  if (before?.candidate === version && before.strategy === deploy.strategy) {
    const what = before.strategy === 'canary' ? `the ${before.canaryPercent}% canary` : 'in shadow';
    return {
      change: false,
      summary: summaryOf(
        before,
        `${pipeline} v${version} is already ${what}; \`promote ${pipeline}\` finishes it`,
      ),
    };
  }
  // With nothing in production there is nothing to compare against, and deploying the
  // production version itself ends whatever split was on.
  const replace = !before || deploy.strategy === 'replace' || before.version === version;
  const next: AliasState = replace
    ? { version, runId, strategy: 'replace', candidate: null, canaryPercent: null, canaryKey: null }
    : {
        version: before.version,
        runId,
        strategy: deploy.strategy,
        candidate: version,
        canaryPercent: deploy.strategy === 'canary' ? deploy.canary_percent : null,
        canaryKey: deploy.strategy === 'canary' ? (deploy.canary_key ?? null) : null,
      };
  return { change: true, next, summary: summaryOf(next) };
}

/** The history entry a plain rollback undoes, as `lastUndoable` finds it. */
export type Undoable = { id: number; undo: AliasState | null } | undefined;

/**
 * Rolling back to `version`: when that is what the last change replaced, its stored undo
 * is put back whole (a canary rolled back ends the split and keeps production); any other
 * version replaces production.
 */
export function planRollback(
  pipeline: string,
  before: AliasState | null,
  undoable: Undoable,
  request: { version: number; runId: string },
): AliasPlan {
  if (!before) {
    throw new StewardError('EVENT_NOT_ALLOWED', `${pipeline} has nothing in production to roll back`);
  }
  if (undoable?.undo && undoable.undo.version === request.version) {
    const next = { ...undoable.undo, runId: request.runId };
    return { change: true, next, undoes: undoable.id, summary: summaryOf(next) };
  }
  if (before.version === request.version && before.strategy === 'replace') {
    return {
      change: false,
      summary: summaryOf(before, `${pipeline} v${request.version} is already in production`),
    };
  }
  const next: AliasState = {
    version: request.version,
    runId: request.runId,
    strategy: 'replace',
    candidate: null,
    canaryPercent: null,
    canaryKey: null,
  };
  return { change: true, next, summary: summaryOf(next) };
}

/** The version a plain `rollback` goes back to: what the last change replaced. */
export function rollbackTarget(pipeline: string, before: AliasState | null, undoable: Undoable): number {
  if (!before) {
    throw new StewardError('EVENT_NOT_ALLOWED', `${pipeline} has no model in production to roll back from`);
  }
  if (!undoable?.undo) {
    throw new StewardError(
      'EVENT_NOT_ALLOWED',
      undoable
        ? `${pipeline} ${describeAlias(before)} is its first deployment; there is nothing to roll back to`
        : `${pipeline}'s history records no change to undo; name the version: \`rollback ${pipeline} --to v<N>\``,
    );
  }
  return undoable.undo.version;
}

/** Finishing a canary or a shadow deployment: the candidate becomes production, alone. */
export function planPromote(pipeline: string, before: AliasState | null): AliasPlan & { change: true } {
  if (!before || before.strategy === 'replace' || before.candidate === null) {
    throw new StewardError(
      'EVENT_NOT_ALLOWED',
      before
        ? `${pipeline} serves ${describeAlias(before)} alone: there is no canary or shadow to promote`
        : `${pipeline} has nothing deployed: there is no canary or shadow to promote`,
    );
  }
  const next: AliasState = {
    version: before.candidate,
    runId: before.runId,
    strategy: 'replace',
    candidate: null,
    canaryPercent: null,
    canaryKey: null,
  };
  return { change: true, next, summary: summaryOf(next) };
}
