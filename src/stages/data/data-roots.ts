import fs from 'node:fs/promises';
import path from 'node:path';
import { isStewardError, StewardError } from '../../errors.ts';

/**
 * Where CSV sources may be read from. A pipeline spec names its file, and anyone who can
 * edit a spec (or start a run of one) must not be able to make Steward read `/etc/passwd`
 * or another user's home directory into a dataset, so every CSV path is checked against a
 * list of allowed directories before the file is opened.
 */

/** The variable that lists the roots; messages name it, so people know what to set. */
export const DATA_ROOTS_VARIABLE = 'STEWARD_DATA_ROOTS';

/** Splits a `STEWARD_DATA_ROOTS` value (`:`-separated, `;` on Windows); empty entries are ignored. */
export function splitDataRoots(value: string): string[] {
  return value
    .split(path.delimiter)
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => path.resolve(entry));
}

/**
 * The allowed roots: `STEWARD_DATA_ROOTS` when set, otherwise the parent of the pipelines
 * directory (so `pipelines/churn.yaml` may read `../examples/churn.csv`). Stages read this
 * from their environment (worker threads get a copy of the process's), as `loadConfig` does.
 */
export function dataRoots(env: {
  STEWARD_DATA_ROOTS?: string | undefined;
  STEWARD_PIPELINES_DIR?: string | undefined;
}): string[] {
  const listed = splitDataRoots(env.STEWARD_DATA_ROOTS ?? '');
  if (listed.length > 0) return listed;
  return [path.dirname(path.resolve(env.STEWARD_PIPELINES_DIR?.trim() || './pipelines'))];
}

/** Whether `file` is `root` or lies under it (both absolute, already resolved). */
export function isInside(file: string, root: string): boolean {
  const relative = path.relative(root, file);
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  );
}

/**
 * The real path of `file` (symlinks resolved), after checking that it lies inside one of
 * `roots` (also resolved). Refuses with BAD_REQUEST naming the path and the variable to
 * set; nothing is opened. A missing file is an ENOENT error, unless `allowMissing`, in which
 * case the nearest existing directory above it is what is checked (a run may be requested
 * before its file is written; the ingest stage then reports it missing).
 */
export async function confinedPath(
  file: string,
  roots: readonly string[],
  { allowMissing = false }: { allowMissing?: boolean } = {},
): Promise<string> {
  const real = allowMissing ? await realpathOfNearest(path.resolve(file)) : await fs.realpath(file);
  const realRoots = await Promise.all(roots.map((root) => fs.realpath(root).catch(() => undefined)));
  if (realRoots.some((root) => root !== undefined && isInside(real, root))) return real;
  throw outsideRoots(file, real, roots);
}

/** The refusal, worded for the person who wrote the spec or runs Steward. */
export function outsideRoots(file: string, real: string, roots: readonly string[]): StewardError {
  const resolved = real === path.resolve(file) ? '' : ` (which resolves to ${real})`;
  return new StewardError(
    'BAD_REQUEST',
    `source.path ${file}${resolved} is outside the allowed data roots (${roots.join(', ')}); ` +
      `set ${DATA_ROOTS_VARIABLE} to a list of directories CSV sources may be read from`,
  );
}

/** `realpath` of the deepest existing ancestor, with the missing rest appended. */
async function realpathOfNearest(absolute: string): Promise<string> {
  const missing: string[] = [];
  for (let at = absolute; ; at = path.dirname(at)) {
    try {
      return path.join(await fs.realpath(at), ...missing.reverse());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || path.dirname(at) === at) throw error;
      missing.push(path.basename(at));
    }
  }
}

/**
 * Refuses, when a run is requested, a CSV source outside the roots, so that a refused
 * request creates no run. Other sources pass. Roots default to the environment's.
 */
export async function checkSourceRoots(
  source: { type: string; path?: string },
  roots: readonly string[] = dataRoots(process.env),
): Promise<void> {
  if (source.type !== 'csv' || source.path === undefined) return;
  try {
    await confinedPath(source.path, roots, { allowMissing: true });
  } catch (error) {
    // Only the refusal stops the request; an unreadable path is the ingest stage's to report.
    if (isStewardError(error)) throw error;
  }
}
