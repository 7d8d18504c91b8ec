import { eq, inArray } from 'drizzle-orm';
import { MODELS_CHANNEL } from '../../db/alias-repo.ts';
import type { Database } from '../../db/client.ts';
import { productionModels } from '../../db/schema.ts';
import { isStewardError, StewardError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { MonitoringSpec } from '../spec.ts';
import { disposeModel, type LoadedModel, loadModelVersion, monitoringOf } from './loaded-model.ts';

/** The channel the deploy side NOTIFYs (payload: the pipeline) whenever an alias changes. */

export type Strategy = 'replace' | 'shadow' | 'canary';

/**
 * What one pipeline serves right now: its production alias, resolved to loaded models.
 * A request takes one `Serving` and uses it to the end, so a swap never changes a
 * request halfway; the cache replaces the whole object when the alias changes.
 */
export type Serving = {
  readonly pipeline: string;
  readonly generation: number;
  readonly strategy: Strategy;
  readonly production: LoadedModel;
  /** The shadow or canary version; undefined under `replace`. */
  readonly candidate: LoadedModel | undefined;
  /** The canary's share of rows, 0–100 (0 unless `canary`). */
  readonly canaryPercent: number;
  /** A row field, `header:<name>`, or null (random). */
  readonly canaryKey: string | null;
  readonly monitoring: MonitoringSpec;
};

export type ModelCache = {
  /** Starts listening for alias changes and the generation check. */
  start(): Promise<void>;
  /** True once `start` has listened (the `/v2/health/ready` answer). */
  ready(): boolean;
  /** The pipeline's serving state, loaded on first use (concurrent callers share one load). NOT_FOUND without an alias. */
  get(pipeline: string): Promise<Serving>;
  /**
   * A specific version: the production or candidate one when it is that, otherwise read
   * and loaded on demand (a few such versions are kept). NOT_FOUND when it does not exist.
   */
  version(pipeline: string, version: number): Promise<LoadedModel>;
  /** Reads the alias again and swaps in what it names once fully loaded. */
  reload(pipeline: string): Promise<void>;
  /** `reload` for every pipeline loaded so far (after a listener gap). */
  reloadAll(): Promise<void>;
  stop(): Promise<void>;
};

export type ModelCacheOptions = {
  database: Database;
  log: Logger;
  /**
   * How often the alias generations are compared with the database, as a fallback for a
   * missed notification. @default 3000
   */
  checkMs?: number;
  /** Versions served on request beside the production and candidate ones. @default 4 */
  extraVersions?: number;
  /** How long a replaced model stays usable before its memory is freed (requests still using it). @default 60000 */
  disposeAfterMs?: number;
};

const notDeployed = (pipeline: string) =>
  new StewardError(
    'NOT_FOUND',
    `no model named "${pipeline}" is deployed; \`steward models\` lists the models and their versions`,
  );

/**
 * The production models of every pipeline, loaded once per process and swapped within
 * a second of a promotion: LISTEN on `steward_models` reloads that pipeline (a listener
 * gap reloads all), and a generation check every few seconds catches anything missed.
 * The new version is loaded fully before it replaces the old one, so no request fails
 * during a swap, and requests that already hold the old `Serving` finish with it.
 */
export function createModelCache(options: ModelCacheOptions): ModelCache {
  const { database, log } = options;
  const checkMs = options.checkMs ?? 3000;
  const extraLimit = options.extraVersions ?? 4;
  const disposeAfterMs = options.disposeAfterMs ?? 60_000;
  const db = database.db;

  const current = new Map<string, Serving>();
  const firstLoads = new Map<string, Promise<Serving>>();
  /** Loaded (or loading) versions by `pipeline@version`, shared by every Serving that names them. */
  const models = new Map<string, Promise<LoadedModel>>();
  /** On-demand versions, least recently used first. */
  const extras: string[] = [];
  const disposals = new Set<NodeJS.Timeout>();
  /** Alias reads in progress, by pipeline. */
  const reading = new Map<string, number>();
  let unlisten: (() => Promise<void>) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let stopped = false;

  const keyOf = (pipeline: string, version: number) => `${pipeline}@${version}`;

  function model(pipeline: string, version: number): Promise<LoadedModel> {
    const key = keyOf(pipeline, version);
    let loading = models.get(key);
    if (!loading) {
      loading = loadModelVersion(db, pipeline, version).catch((error: unknown) => {
        models.delete(key);
        if (isStewardError(error) && error.code === 'NOT_FOUND') throw error;
        log.error('model version cannot be loaded', { pipeline, version, error });
        throw new StewardError(
          'MODEL_UNAVAILABLE',
          `${pipeline} v${version} cannot be loaded (${(error as Error).message}); deploy another version or roll back`,
          { cause: error },
        );
      });
      models.set(key, loading);
    }
    return loading;
  }

  /**
   * Reads the alias, loads everything it names and installs it; undefined when the
   * pipeline has none. Its versions are kept from eviction until they are installed.
   */
  async function refresh(pipeline: string): Promise<Serving | undefined> {
    reading.set(pipeline, (reading.get(pipeline) ?? 0) + 1);
    try {
      install(pipeline, await readAlias(pipeline));
      return current.get(pipeline);
    } finally {
      const left = (reading.get(pipeline) ?? 1) - 1;
      if (left > 0) reading.set(pipeline, left);
      else reading.delete(pipeline);
    }
  }

  async function readAlias(pipeline: string): Promise<Serving | undefined> {
    const [alias] = await db.select().from(productionModels).where(eq(productionModels.pipeline, pipeline));
    if (!alias) return undefined;
    const strategy = alias.strategy as Strategy;
    const [production, candidate, monitoring] = await Promise.all([
      model(pipeline, alias.version),
      strategy !== 'replace' && alias.candidate !== null ? model(pipeline, alias.candidate) : undefined,
      monitoringOf(db, pipeline, log),
    ]);
    return {
      pipeline,
      generation: alias.generation,
      strategy: candidate ? strategy : 'replace',
      production,
      candidate,
      canaryPercent: strategy === 'canary' ? Math.min(100, Math.max(0, alias.canaryPercent ?? 0)) : 0,
      canaryKey: alias.canaryKey,
      monitoring,
    };
  }

  /** Installs what `read` found unless a newer generation is installed already. */
  function install(pipeline: string, next: Serving | undefined): void {
    const before = current.get(pipeline);
    if (next === undefined) {
      if (before) log.info('model no longer deployed', { pipeline });
      current.delete(pipeline);
    } else if (!before || next.generation >= before.generation) {
      current.set(pipeline, next);
      const changed =
        !before ||
        before.production.version !== next.production.version ||
        before.candidate?.version !== next.candidate?.version;
      if (before && changed) {
        log.info('model swapped', {
          pipeline,
          version: next.production.version,
          candidate: next.candidate?.version ?? null,
          strategy: next.strategy,
          generation: next.generation,
        });
      }
    }
    evictUnused();
  }

  /** Frees versions no Serving names any more, after a grace period for requests still holding them. */
  function evictUnused(): void {
    const used = new Set(extras);
    for (const serving of current.values()) {
      used.add(keyOf(serving.pipeline, serving.production.version));
      if (serving.candidate) used.add(keyOf(serving.pipeline, serving.candidate.version));
    }
    for (const [key, loading] of models) {
      const pipeline = key.slice(0, key.lastIndexOf('@'));
      // A pipeline whose alias is being read may be about to install any of its versions.
      if (used.has(key) || reading.has(pipeline)) continue;
      models.delete(key);
      const disposal = setTimeout(() => {
        disposals.delete(disposal);
        loading.then(disposeModel, () => {});
      }, disposeAfterMs);
      disposal.unref();
      disposals.add(disposal);
    }
  }

  async function get(pipeline: string): Promise<Serving> {
    const serving = current.get(pipeline);
    if (serving) return serving;
    let loading = firstLoads.get(pipeline);
    if (!loading) {
      loading = refresh(pipeline)
        .then((found) => {
          if (!found) throw notDeployed(pipeline);
          return found;
        })
        .finally(() => firstLoads.delete(pipeline));
      firstLoads.set(pipeline, loading);
    }
    return loading;
  }

  async function reload(pipeline: string): Promise<void> {
    if (stopped) return;
    // Pipelines nobody asked for yet load on first use, with the alias as it is then.
    if (!current.has(pipeline) && !firstLoads.has(pipeline)) return;
    try {
      await refresh(pipeline);
    } catch (error) {
      log.error('model reload failed; serving the previous version', { pipeline, error });
    }
  }

  async function reloadAll(): Promise<void> {
    await Promise.all([...new Set([...current.keys(), ...firstLoads.keys()])].map(reload));
  }

  /** The fallback for a lost notification: reload every pipeline whose generation moved. */
  async function check(): Promise<void> {
    const names = [...current.keys()];
    if (names.length === 0) return;
    const rows = await db
      .select({ pipeline: productionModels.pipeline, generation: productionModels.generation })
      .from(productionModels)
      .where(inArray(productionModels.pipeline, names));
    const generations = new Map(rows.map((r) => [r.pipeline, r.generation]));
    await Promise.all(
      names
        .filter((name) => generations.get(name) !== current.get(name)?.generation)
        .map((name) => reload(name)),
    );
  }

  async function version(pipeline: string, wanted: number): Promise<LoadedModel> {
    const serving = await get(pipeline);
    if (serving.production.version === wanted) return serving.production;
    if (serving.candidate?.version === wanted) return serving.candidate;
    const key = keyOf(pipeline, wanted);
    const at = extras.indexOf(key);
    if (at >= 0) extras.splice(at, 1);
    extras.push(key); // before loading, so no eviction meanwhile frees it
    while (extras.length > extraLimit) extras.shift();
    try {
      return await model(pipeline, wanted);
    } catch (error) {
      const failed = extras.indexOf(key);
      if (failed >= 0) extras.splice(failed, 1);
      throw error;
    } finally {
      evictUnused();
    }
  }

  return {
    async start() {
      if (started) return;
      started = true;
      unlisten = await database.listen(
        MODELS_CHANNEL,
        (pipeline) => void reload(pipeline),
        () => void reloadAll(),
      );
      const tick = () => {
        timer = setTimeout(() => {
          check()
            .catch((error: unknown) => log.warn('model generation check failed', { error }))
            .finally(() => {
              if (!stopped) tick();
            });
        }, checkMs);
        timer.unref();
      };
      tick();
    },
    ready: () => started && !stopped,
    get,
    version,
    reload,
    reloadAll,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await unlisten?.();
      unlisten = undefined;
      for (const disposal of disposals) clearTimeout(disposal);
      disposals.clear();
      const loaded = await Promise.allSettled(models.values());
      for (const result of loaded) if (result.status === 'fulfilled') disposeModel(result.value);
      models.clear();
      current.clear();
    },
  };
}
