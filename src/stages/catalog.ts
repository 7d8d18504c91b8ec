import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { StewardError } from '../errors.ts';
import { describeIssues, PipelineSpec } from './spec.ts';

/** Where pipeline specs come from. The run engine asks it by name. */
export type PipelineCatalog = {
  get(name: string): Promise<PipelineSpec>;
  names(): Promise<string[]>;
};

/** Parses and validates one spec's text; throws PIPELINE_INVALID listing every problem. */
export function parseSpec(text: string, origin: string): PipelineSpec {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (error) {
    throw new StewardError('PIPELINE_INVALID', `${origin}: not valid YAML: ${(error as Error).message}`);
  }
  const parsed = PipelineSpec.safeParse(raw);
  if (!parsed.success) {
    throw new StewardError(
      'PIPELINE_INVALID',
      `${origin} has ${parsed.error.issues.length} problem(s):\n${describeIssues(parsed.error)
        .map((l) => `  ${l}`)
        .join('\n')}`,
    );
  }
  return parsed.data;
}

/** Edit distance, for "did you mean" suggestions. */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = levenshtein(name, candidate);
    if (distance <= Math.max(2, Math.floor(candidate.length / 3)) && (!best || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** Specs read from `*.yaml` files in a directory, read afresh on every call so edits apply at once. */
export function createDirectoryCatalog(dir: string): PipelineCatalog {
  async function files(): Promise<Map<string, string>> {
    let entries: string[];
    try {
      entries = await fs.readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw error;
    }
    const found = new Map<string, string>();
    for (const entry of entries.sort()) {
      const match = /^(.+)\.ya?ml$/.exec(entry);
      if (match?.[1]) found.set(match[1], path.join(dir, entry));
    }
    return found;
  }
  return {
    async names() {
      return [...(await files()).keys()];
    },
    async get(name) {
      const all = await files();
      const file = all.get(name);
      if (!file) {
        const suggestion = closest(name, [...all.keys()]);
        const hint = suggestion
          ? ` Did you mean \`${suggestion}\`?`
          : all.size === 0
            ? ` There are no pipeline specs in ${dir}.`
            : ` Known pipelines: ${[...all.keys()].join(', ')}.`;
        throw new StewardError('PIPELINE_NOT_FOUND', `pipeline not found: \`${name}\`.${hint}`);
      }
      const spec = parseSpec(await fs.readFile(file, 'utf8'), path.relative(process.cwd(), file) || file);
      if (spec.name !== name) {
        throw new StewardError(
          'PIPELINE_INVALID',
          `${file}: name is \`${spec.name}\` but the file is named \`${name}\``,
        );
      }
      // A CSV path is relative to the spec file; the run keeps the resolved one.
      if (spec.source.type === 'csv' && !path.isAbsolute(spec.source.path)) {
        return {
          ...spec,
          source: { ...spec.source, path: path.resolve(path.dirname(file), spec.source.path) },
        };
      }
      return spec;
    },
  };
}

/** A catalog over specs held in memory (tests, the demo). */
export function createMemoryCatalog(specs: PipelineSpec[]): PipelineCatalog {
  const byName = new Map(specs.map((s) => [s.name, s]));
  return {
    names: async () => [...byName.keys()],
    async get(name) {
      const spec = byName.get(name);
      if (!spec) {
        const suggestion = closest(name, [...byName.keys()]);
        throw new StewardError(
          'PIPELINE_NOT_FOUND',
          `pipeline not found: \`${name}\`.${suggestion ? ` Did you mean \`${suggestion}\`?` : ''}`,
        );
      }
      return spec;
    },
  };
}
