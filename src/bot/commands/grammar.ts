/**
 * The `/mlops` slash-command grammar. It is deterministic on purpose: a command typed
 * exactly always means exactly one thing, with no LLM and no guessing. Mistakes are
 * answered with the text the person sees, which says what to type instead (a usage line,
 * or the closest verb, pipeline or role).
 *
 * Pipelines are checked against the names passed in, so a command that parses names a
 * pipeline that existed when it was typed; whether the person may act on it is decided
 * later, when the action is applied.
 */
import { closest } from '../../stages/catalog.ts';
import type { Role } from '../../workflows/roles.ts';
import { Args, GrammarError } from './command-args.ts';
import { type Intent, type IntentName, isMutating } from './intent.ts';
import { findPipeline } from './pipeline-name.ts';
import type { RunStatus } from './run-status.ts';
import { normalizeMentions, straightenQuotes } from './slack-text.ts';
import { tokenize } from './tokenize.ts';
import { USAGE, VERBS, type Verb } from './usage.ts';

export { USAGE, usage, VERBS, type Verb } from './usage.ts';

/** Other spellings people reach for; `show` is the CLI's word for `status`. */
const ALIASES: Record<string, Verb> = {
  '?': 'help',
  retrain: 'run',
  show: 'status',
  'roll-back': 'rollback',
};

export type Command =
  | { verb: 'help'; topic?: Verb }
  | { verb: 'pipelines' }
  | { verb: 'run'; pipeline: string; params: Record<string, string> }
  | { verb: 'runs'; pipeline?: string; status?: RunStatus }
  | { verb: 'status'; run: number }
  | { verb: 'approve'; run: number }
  | { verb: 'reject'; run: number; reason?: string }
  | { verb: 'cancel'; run: number }
  | { verb: 'models'; pipeline?: string }
  | { verb: 'deploy'; pipeline: string; version: number }
  | { verb: 'rollback'; pipeline: string; version?: number }
  | { verb: 'promote'; pipeline: string }
  | { verb: 'history'; pipeline: string }
  | { verb: 'drift'; pipeline: string }
  | { verb: 'grant'; userId: string; role: Role; pipeline?: string }
  | { verb: 'revoke'; userId: string; pipeline?: string }
  | { verb: 'whoami' };

/** Commands that manage people rather than runs and models: they have no intent. */
export type AdminCommand = Extract<Command, { verb: 'grant' | 'revoke' | 'whoami' }>;
export type IntentCommand = Exclude<Command, AdminCommand>;

export type ParseResult = { ok: true; command: Command } | { ok: false; error: string };

export type GrammarOptions = {
  /** The names in the pipeline catalog; any other pipeline is refused with a suggestion. */
  pipelines: readonly string[];
  /**
   * The slash command as registered in the Slack app, used in usage lines.
   * @default '/mlops'
   */
  slash?: string;
};

/**
 * Parses the text after the slash command. Never throws: a mistake comes back as
 * `{ ok: false, error }` whose text can be shown as it is. Empty text is `help`.
 */
export function parseCommand(text: string, options: GrammarOptions): ParseResult {
  const tokens = tokenize(straightenQuotes(normalizeMentions(text)).trim());
  if (!tokens.ok) return { ok: false, error: tokens.error };
  const [first, ...rest] = tokens.words;
  if (!first) return { ok: true, command: { verb: 'help' } };
  try {
    const verb = verbOf(first.text, options.slash, options.pipelines);
    return { ok: true, command: parseArgs(verb, new Args(verb, rest, options)) };
  } catch (error) {
    if (error instanceof GrammarError) return { ok: false, error: error.message };
    throw error;
  }
}

function verbOf(word: string, slash = '/mlops', pipelines: readonly string[] = []): Verb {
  const lower = word.toLowerCase();
  if ((VERBS as readonly string[]).includes(lower)) return lower as Verb;
  const alias = ALIASES[lower];
  if (alias) return alias;
  throw new GrammarError(`no command \`${word}\` — ${verbHint(word, slash, pipelines)}`);
}

/** What the person most likely meant by a word that is not a verb. */
function verbHint(word: string, slash: string, pipelines: readonly string[]): string {
  const pipeline = findPipeline(word, pipelines);
  if (pipeline) return `did you mean \`${slash} run ${pipeline}\`?`;
  const run = /^#?(\d+)$/.exec(word)?.[1];
  if (run) return `did you mean \`${slash} status ${run}\`?`;
  const suggestion = closest(word.toLowerCase(), [...VERBS]) as Verb | undefined;
  if (suggestion) return `did you mean \`${suggestion}\`? (\`${slash} ${USAGE[suggestion]}\`)`;
  return `try \`${slash} help\``;
}

function parseArgs(verb: Verb, args: Args): Command {
  switch (verb) {
    case 'help': {
      const topic = args.optional();
      args.end();
      return topic ? { verb, topic: verbOf(topic.text, args.slash) } : { verb };
    }
    case 'pipelines':
    case 'whoami':
      args.end();
      return { verb };
    case 'run': {
      const pipeline = args.pipeline();
      return { verb, pipeline, params: args.params() };
    }
    case 'runs':
      return args.runsFilter();
    case 'status':
    case 'approve':
    case 'cancel': {
      const run = args.run();
      args.end();
      return { verb, run };
    }
    case 'reject': {
      const run = args.run();
      const reason = args.rest();
      return reason ? { verb, run, reason } : { verb, run };
    }
    case 'models': {
      const word = args.optional();
      args.end();
      return word ? { verb, pipeline: args.knownPipeline(word) } : { verb };
    }
    case 'deploy': {
      const pipeline = args.pipeline();
      const version = args.version();
      args.end();
      return { verb, pipeline, version };
    }
    case 'rollback': {
      const pipeline = args.pipeline();
      const version = args.rollbackTarget();
      args.end();
      return version === undefined ? { verb, pipeline } : { verb, pipeline, version };
    }
    case 'promote':
    case 'history':
    case 'drift': {
      const pipeline = args.pipeline();
      args.end();
      return { verb, pipeline };
    }
    case 'grant': {
      const userId = args.user();
      const role = args.role();
      const word = args.optional();
      args.end();
      return word ? { verb, userId, role, pipeline: args.knownPipeline(word) } : { verb, userId, role };
    }
    case 'revoke': {
      const userId = args.user();
      const word = args.optional();
      args.end();
      return word ? { verb, userId, pipeline: args.knownPipeline(word) } : { verb, userId };
    }
  }
}

/** The intent each verb becomes, so that what counts as mutating is decided in one place (intent.ts). */
const INTENT_OF_VERB: Record<IntentCommand['verb'], IntentName> = {
  help: 'help',
  pipelines: 'list_pipelines',
  run: 'start_run',
  runs: 'list_runs',
  status: 'run_status',
  approve: 'approve',
  reject: 'reject',
  cancel: 'cancel_run',
  models: 'list_models',
  deploy: 'deploy',
  rollback: 'rollback',
  promote: 'promote',
  history: 'model_history',
  drift: 'drift_report',
};

/**
 * Whether a command's text asks to change something, read from its first word alone (no
 * catalog, no arguments), so the chat edge can decide before its ack whether the request
 * must be stored first. Text that does not start with a verb changes nothing: it is
 * answered with a correction.
 */
export function isMutatingCommand(text: string): boolean {
  const first = /^\s*"?([^\s"]+)/.exec(straightenQuotes(text))?.[1]?.toLowerCase();
  if (!first) return false;
  const verb = (VERBS as readonly string[]).includes(first)
    ? (first as Verb)
    : Object.hasOwn(ALIASES, first)
      ? ALIASES[first]
      : undefined;
  if (!verb || verb === 'whoami') return false;
  if (verb === 'grant' || verb === 'revoke') return true;
  return isMutating(INTENT_OF_VERB[verb]);
}

/** True for the commands that are also intents (all but grant, revoke and whoami). */
export function hasIntent(command: Command): command is IntentCommand {
  return command.verb !== 'grant' && command.verb !== 'revoke' && command.verb !== 'whoami';
}

/** The intent a command means, so slash commands and sentences meet in one handler. */
export function toIntent(command: IntentCommand): Intent {
  switch (command.verb) {
    case 'help':
      return { intent: 'help' };
    case 'pipelines':
      return { intent: 'list_pipelines' };
    case 'run':
      return {
        intent: 'start_run',
        pipeline: command.pipeline,
        ...(Object.keys(command.params).length > 0 ? { params: command.params } : {}),
      };
    case 'runs':
      return { intent: 'list_runs', ...pick(command, ['pipeline', 'status']) };
    case 'status':
      return { intent: 'run_status', run: command.run };
    case 'approve':
      return { intent: 'approve', run: command.run };
    case 'reject':
      return { intent: 'reject', run: command.run, ...pick(command, ['reason']) };
    case 'cancel':
      return { intent: 'cancel_run', run: command.run };
    case 'models':
      return { intent: 'list_models', ...pick(command, ['pipeline']) };
    case 'deploy':
      return { intent: 'deploy', pipeline: command.pipeline, version: command.version };
    case 'rollback':
      return { intent: 'rollback', pipeline: command.pipeline, ...pick(command, ['version']) };
    case 'promote':
      return { intent: 'promote', pipeline: command.pipeline };
    case 'history':
      return { intent: 'model_history', pipeline: command.pipeline };
    case 'drift':
      return { intent: 'drift_report', pipeline: command.pipeline };
  }
}

/** The named fields that are present, so optional absences stay absent in the JSON. */
function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}
