import type { LockedRun } from '../db/runs-repo.ts';
import { MACHINE_VERSION, pipelineRunMachine } from './pipeline-run.machine.ts';

export type MachineSnapshot = ReturnType<typeof pipelineRunMachine.resolveState>;

/** A persisted run snapshot as stored in `runs.snapshot`: XState's JSON, read loosely. */
export type StoredSnapshot = { value?: unknown; status?: string; context?: Record<string, unknown> } & Record<
  string,
  unknown
>;

/**
 * `migrations[v]` turns a snapshot stored by run machine v-1 into one of v. Every
 * MACHINE_VERSION bump ships the step from the version before it; a run is upgraded on
 * restore, and the engine stores the upgraded snapshot with the next event it applies.
 * Steps are pure and never remove a state a run may be in (rename it here instead).
 */
export const migrations: Record<number, (snapshot: StoredSnapshot) => StoredSnapshot> = {
  /** v2 counts released attempts per stage; none were counted before. */
  2: (snapshot) => ({ ...snapshot, context: { ...snapshot.context, released: {} } }),
};

/**
 * The snapshot upgraded from `version` to MACHINE_VERSION, or why it cannot be: a newer
 * machine stored it, or a step of the chain is missing.
 */
export function migrateSnapshot(
  snapshot: unknown,
  version: number,
): { ok: true; snapshot: StoredSnapshot } | { ok: false; reason: string } {
  if (version > MACHINE_VERSION) {
    return { ok: false, reason: `it was recorded by a newer Steward (run machine v${version})` };
  }
  let upgraded = snapshot as StoredSnapshot;
  for (let v = version + 1; v <= MACHINE_VERSION; v++) {
    const step = migrations[v];
    if (!step)
      return { ok: false, reason: `there is no migration of run machine v${v - 1} snapshots to v${v}` };
    upgraded = step(upgraded);
  }
  return { ok: true, snapshot: upgraded };
}

/**
 * The run's snapshot as this machine version's, upgraded through the snapshot migrations
 * when an older version stored it; or why it cannot be restored (a newer or unknown
 * version, or a state this machine does not have).
 */
export function restoreSnapshot(
  row: Pick<LockedRun, 'machineVersion' | 'snapshot'>,
): { ok: true; snapshot: MachineSnapshot } | { ok: false; reason: string } {
  const migrated = migrateSnapshot(row.snapshot, row.machineVersion);
  if (!migrated.ok) return migrated;
  const missing = (value: unknown) =>
    typeof value !== 'string' || !(value in pipelineRunMachine.root.states)
      ? `its state ${JSON.stringify(value) ?? 'undefined'} does not exist in run machine v${MACHINE_VERSION}`
      : null;
  const before = missing(migrated.snapshot.value);
  if (before) return { ok: false, reason: before };
  let snapshot: MachineSnapshot;
  try {
    snapshot = pipelineRunMachine.resolveState(
      migrated.snapshot as Parameters<typeof pipelineRunMachine.resolveState>[0],
    );
  } catch (error) {
    return {
      ok: false,
      reason: `its snapshot does not fit run machine v${MACHINE_VERSION} (${(error as Error).message})`,
    };
  }
  // XState can resolve a snapshot into no state at all rather than throw.
  const after = missing(snapshot.value);
  if (after) return { ok: false, reason: after };
  return { ok: true, snapshot };
}
