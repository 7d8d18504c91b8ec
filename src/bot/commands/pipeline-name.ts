/**
 * Pipeline names typed by people, checked against the catalog's names. A name that is not
 * known never passes through: an unknown pipeline is an error that suggests the closest
 * known one, as `createDirectoryCatalog` does, so chat and CLI read the same.
 */
import { closest } from '../../stages/catalog.ts';

/** The known name `word` refers to: exact, else case-insensitive; undefined when neither. */
export function findPipeline(word: string, pipelines: readonly string[]): string | undefined {
  if (pipelines.includes(word)) return word;
  const lower = word.toLowerCase();
  return pipelines.find((name) => name.toLowerCase() === lower);
}

/** The known name a mistyped `word` most likely meant, if any is close enough. */
export function closestPipeline(word: string, pipelines: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const match = closest(
    lower,
    pipelines.map((name) => name.toLowerCase()),
  );
  return match === undefined ? undefined : findPipeline(match, pipelines);
}

/** What to tell someone who typed a pipeline that does not exist. */
export function unknownPipelineMessage(word: string, pipelines: readonly string[]): string {
  const suggestion = closestPipeline(word, pipelines);
  if (suggestion) return `no pipeline \`${word}\` — did you mean \`${suggestion}\`?`;
  if (pipelines.length === 0)
    return `no pipeline \`${word}\` — there are no pipelines yet; add a spec to \`pipelines/\``;
  return `no pipeline \`${word}\` — known pipelines: ${pipelines.map((name) => `\`${name}\``).join(', ')}`;
}
