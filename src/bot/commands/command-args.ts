/**
 * Reads the words after a `/mlops` verb. Each reader either returns a checked value or
 * throws a `GrammarError` whose message is the text the person sees, ending in the verb's
 * usage line, so every mistake says what to type instead.
 */
import { closest } from '../../stages/catalog.ts';
import { Role } from '../../workflows/roles.ts';
import type { Command, GrammarOptions } from './grammar.ts';
import { PARAM_KEY } from './intent.ts';
import { closestPipeline, findPipeline, unknownPipelineMessage } from './pipeline-name.ts';
import { RUN_STATUSES, type RunStatus, STATUS_WORDS, toRunStatus } from './run-status.ts';
import { decodeEntities, userIdOf } from './slack-text.ts';
import type { Word } from './tokenize.ts';
import { usage, type Verb } from './usage.ts';

/** Thrown by the readers only; `parseCommand` turns it into `{ ok: false, error }`. */
export class GrammarError extends Error {}

const STATUS_LIST = RUN_STATUSES.map((status) => `\`${status}\``).join(', ');

/** The words after the verb, read left to right; every failure names the verb's usage. */
export class Args {
  private index = 0;
  readonly slash: string;

  constructor(
    private readonly verb: Verb,
    private readonly words: Word[],
    private readonly options: GrammarOptions,
  ) {
    this.slash = options.slash ?? '/mlops';
  }

  private fail(problem: string): never {
    throw new GrammarError(`${problem} — ${usage(this.verb, this.slash)}`);
  }

  optional(): Word | undefined {
    const word = this.words[this.index];
    if (word) this.index++;
    return word;
  }

  private required(what: string): Word {
    return this.optional() ?? this.fail(`${what} is missing`);
  }

  end(): void {
    const extra = this.words[this.index];
    if (extra) this.fail(`unexpected \`${extra.text}\``);
  }

  /** The remaining words as one sentence (a reason), or undefined when there are none. */
  rest(): string | undefined {
    const text = this.words
      .slice(this.index)
      .map((word) => word.text)
      .join(' ')
      .trim();
    this.index = this.words.length;
    return text ? decodeEntities(text) : undefined;
  }

  pipeline(): string {
    return this.knownPipeline(this.required('the pipeline'));
  }

  knownPipeline(word: Word): string {
    const name = findPipeline(word.text, this.options.pipelines);
    if (name === undefined) throw new GrammarError(unknownPipelineMessage(word.text, this.options.pipelines));
    return name;
  }

  run(): number {
    const word = this.required('the run number');
    const match = /^#?(\d+)$/.exec(word.text);
    if (!match?.[1]) this.fail(`\`${word.text}\` is not a run number (write \`12\` or \`#12\`)`);
    return this.ordinal(match[1], 'run numbers');
  }

  version(): number {
    return this.versionOf(this.required('the version'));
  }

  versionOf(word: Word): number {
    const match = /^[vV]?(\d+)$/.exec(word.text);
    if (!match?.[1]) this.fail(`\`${word.text}\` is not a version (write \`v3\`)`);
    return this.ordinal(match[1], 'versions');
  }

  /**
   * A rollback's version, if one is named: `v2`, `to v2`, `--to v2` or `--to=v2` (the form
   * Steward's own refusals suggest). A dash the chat client made typographic (`—to`) counts.
   */
  rollbackTarget(): number | undefined {
    const word = this.optional();
    if (!word) return undefined;
    const flag = /^(?:--|[\u2013\u2014])?to(?:=(.*))?$/i.exec(word.text);
    if (!flag) return this.versionOf(word);
    const inline = flag[1];
    return this.versionOf(inline ? { ...word, text: inline } : this.required('the version after `to`'));
  }

  private ordinal(digits: string, what: string): number {
    const value = Number(digits);
    if (value < 1) this.fail(`${what} start at 1`);
    if (!Number.isSafeInteger(value)) this.fail(`\`${digits}\` is too large`);
    return value;
  }

  /** `key=value` words up to the end; a bare word is an error that names it. */
  params(): Record<string, string> {
    const params: Record<string, string> = {};
    for (let word = this.optional(); word; word = this.optional()) {
      const equals = word.text.indexOf('=');
      if (equals < 0) this.fail(`\`${word.text}\` is not a key=value parameter`);
      const key = word.text.slice(0, equals);
      const value = word.text.slice(equals + 1);
      if (!PARAM_KEY.test(key)) {
        this.fail(
          `\`${key}\` is not a parameter name (letters, digits, \`_\`, \`.\`, \`-\`; starting with a letter or \`_\`)`,
        );
      }
      if (value === '' && !word.quoted) this.fail(`\`${key}=\` has no value (write \`${key}=<value>\`)`);
      if (Object.hasOwn(params, key)) this.fail(`\`${key}\` is given twice`);
      params[key] = decodeEntities(value);
    }
    return params;
  }

  /** `runs [pipeline] [status]`, in either order, since both read naturally. */
  runsFilter(): Command {
    let pipeline: string | undefined;
    let status: RunStatus | undefined;
    for (let word = this.optional(); word; word = this.optional()) {
      const name = pipeline === undefined ? findPipeline(word.text, this.options.pipelines) : undefined;
      const asStatus = status === undefined ? toRunStatus(word.text) : undefined;
      if (name !== undefined) pipeline = name;
      else if (asStatus !== undefined) status = asStatus;
      else this.unknownFilter(word.text, pipeline === undefined, status === undefined);
    }
    return { verb: 'runs', ...(pipeline ? { pipeline } : {}), ...(status ? { status } : {}) };
  }

  /** A word in `runs …` that is neither: suggest whichever of the open slots it is closest to. */
  private unknownFilter(word: string, pipelineOpen: boolean, statusOpen: boolean): never {
    if (!pipelineOpen && !statusOpen) this.fail(`unexpected \`${word}\``);
    if (pipelineOpen && closestPipeline(word, this.options.pipelines)) {
      throw new GrammarError(unknownPipelineMessage(word, this.options.pipelines));
    }
    const statusGuess = statusOpen ? closest(word.toLowerCase(), [...STATUS_WORDS]) : undefined;
    if (statusGuess) throw new GrammarError(`no status \`${word}\` — did you mean \`${statusGuess}\`?`);
    if (!statusOpen) throw new GrammarError(unknownPipelineMessage(word, this.options.pipelines));
    if (!pipelineOpen) this.fail(`no status \`${word}\` (statuses: ${STATUS_LIST})`);
    const pipelines = this.options.pipelines.map((name) => `\`${name}\``).join(', ') || 'none yet';
    return this.fail(
      `\`${word}\` is neither a pipeline nor a status (pipelines: ${pipelines}; statuses: ${STATUS_LIST})`,
    );
  }

  user(): string {
    const word = this.required('the user');
    const id = userIdOf(word.text);
    if (id) return id;
    if (word.text.startsWith('@')) {
      this.fail(`\`${word.text}\` is not a mention Slack resolved: pick the person from the @ menu`);
    }
    return this.fail(`\`${word.text}\` is not a user (mention them: \`@name\`)`);
  }

  role(): Role {
    const word = this.required('the role');
    const parsed = Role.safeParse(word.text.toLowerCase());
    if (parsed.success) return parsed.data;
    const suggestion = closest(word.text.toLowerCase(), [...Role.options]);
    return this.fail(
      suggestion
        ? `no role \`${word.text}\` — did you mean \`${suggestion}\`?`
        : `no role \`${word.text}\` (roles: ${Role.options.join(', ')})`,
    );
  }
}
