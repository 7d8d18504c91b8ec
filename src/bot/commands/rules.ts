/**
 * The rule-based reader of free text: what Steward understands with no LLM configured, and
 * what answers when the LLM fails. It is deliberately conservative. An action needs an
 * explicit verb and everything the action names (`requireFields`); a negated request
 * ("don't deploy churn") is not an action; a number only counts as a run when written
 * `#12`, `run 12` or right after the verb ("approve 12"), so "cancel the last 2 runs" never
 * cancels run 2. Whatever it returns is a proposal: mutating intents are confirmed in chat.
 *
 * Pipelines are matched only against the known names, exactly or as a close typo of a word
 * that is not ordinary vocabulary.
 */
import { type Intent, isMutating, requireFields } from './intent.ts';
import { closestPipeline, findPipeline } from './pipeline-name.ts';
import { type RunStatus, toRunStatus } from './run-status.ts';
import { decodeEntities, straightenQuotes, stripMentions } from './slack-text.ts';

export type RulesOptions = {
  /** The names in the pipeline catalog; no other pipeline is ever returned. */
  pipelines: readonly string[];
};

/** Reads one message. Never throws; anything it cannot place is `unknown`. */
export function parseIntentByRules(text: string, options: RulesOptions): Intent {
  return requireFields(classify(readMessage(text, options.pipelines)));
}

/** What the rules look at, taken from the message once. */
type Message = {
  /** The message without mentions and `key=value` pairs, in its original case. */
  text: string;
  params: Record<string, string>;
  /** The first double-quoted stretch, for reasons. */
  quoted?: string;
  pipeline?: string;
  version?: number;
  /** A run written `#12` or `run 12`; other numbers are considered only next to a verb. */
  run?: number;
  status?: RunStatus;
};

/** `run 12`, `run number 12`, `status of #12`: a number that is a run by the word before it. */
const RUN_REF = /\b(?:run|status(?:\s+of)?)\s+(?:number\s+|no\.?\s*)?#?(\d+)\b/i;

/** `key=value` (the key as `PARAM_KEY`), also `key = value` and `key="two words"`. */
const PARAM = /(?<=^|\s)([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|(\S+))/g;

function readMessage(raw: string, pipelines: readonly string[]): Message {
  let text = straightenQuotes(decodeEntities(stripMentions(raw)))
    .replace(/^\s*@\S+[,:]?/, '') // "@steward …" typed in the local console
    .trim();
  const params: Record<string, string> = {};
  text = text.replace(PARAM, (_all, key: string, quoted: string | undefined, bare: string | undefined) => {
    params[key] = quoted ?? (bare ?? '').replace(/[.,;:!?]+$/, ''); // "epochs=30." ends a sentence
    return ' ';
  });
  text = text.replace(/\s+/g, ' ').trim();
  const quoted = /"([^"]+)"/.exec(text)?.[1]?.trim();
  const words = text
    .split(' ')
    .map((word) => word.replace(/'s$/i, '').replace(/^[^\w#]+|[^\w]+$/g, ''))
    .filter(Boolean);
  const run = numberIn(text, /#\s?(\d+)\b/) ?? numberIn(text, RUN_REF);
  const version = numberIn(text, /\bv(\d+)\b/i) ?? numberIn(text, /\bversion\s+#?(\d+)\b/i);
  const pipeline = pipelineIn(words, pipelines);
  const status = statusIn(text, words);
  return {
    text,
    params,
    ...(quoted ? { quoted } : {}),
    ...(pipeline ? { pipeline } : {}),
    ...(version ? { version } : {}),
    ...(run ? { run } : {}),
    ...(status ? { status } : {}),
  };
}

function numberIn(text: string, pattern: RegExp): number | undefined {
  const digits = pattern.exec(text)?.[1];
  const value = digits === undefined ? Number.NaN : Number(digits);
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** An exact name anywhere wins over a typo; typos are looked for only in unfamiliar words. */
function pipelineIn(words: string[], pipelines: readonly string[]): string | undefined {
  for (const word of words) {
    const name = findPipeline(word, pipelines);
    if (name) return name;
  }
  for (const word of words) {
    if (word.length < 4 || /\d/.test(word) || VOCABULARY.has(word.toLowerCase())) continue;
    const name = closestPipeline(word, pipelines);
    if (name) return name;
  }
  return undefined;
}

function statusIn(text: string, words: string[]): RunStatus | undefined {
  if (
    /\b(?:awaiting|waiting for|pending|needs?|needing)\s+(?:an?\s+)?(?:approvals?|sign-?off)\b/i.test(text)
  ) {
    return 'awaiting_approval';
  }
  if (/\bin progress\b/i.test(text)) return 'running';
  for (const word of words) {
    const status = toRunStatus(word);
    if (status) return status;
  }
  return undefined;
}

type Rule = {
  test: RegExp;
  /** A further condition on the whole message; when it fails, the next rules are tried. */
  when?: (message: Message) => boolean;
  intent: (message: Message, verb: RegExpExecArray) => Intent;
};

const NEGATION = /\b(?:don't|dont|do not|never|not|shouldn't|should not|won't|mustn't|no need to)\b/i;
const ASK = /\b(?:which|what|what's|list|show|display|see|view|available|are there|do we have|any)\b/i;
const STRONG_START =
  /\b(?:retrain|re-train|train|rerun|re-run|start|kick ?off|launch|trigger|refresh|build)\b|^(?:please |can you |could you )?run\b/i;
const STATUS_CUE =
  /\b(?:status|how|doing|going|progress|state|happened|what|what's|why|where|when|who|show|details?|info|look|check|see)\b/i;

/** First match wins; the order puts specific verbs before general questions. */
const RULES: Rule[] = [
  { test: /^(?:help|\?|h|commands|usage|menu|hi|hello|hey)[.!?]*$/i, intent: () => ({ intent: 'help' }) },
  {
    test: /\b(?:reject|decline|deny|veto)\b/i,
    intent: (m, verb) => ({ ...withRun(m, verb, { intent: 'reject' }), ...opt('reason', reasonOf(m, verb)) }),
  },
  {
    test: /\b(?:approve|lgtm|sign off on|sign off|greenlight|green-light)\b/i,
    intent: (m, verb) => withRun(m, verb, { intent: 'approve' }),
  },
  {
    test: /\b(?:cancel|abort|stop|kill|terminate|halt)\b/i,
    intent: (m, verb) => withRun(m, verb, { intent: 'cancel_run' }),
  },
  {
    test: /\bhistory\b/i,
    when: isAliasHistory,
    intent: (m) => ({ intent: 'model_history', ...opt('pipeline', m.pipeline) }),
  },
  {
    test: /\b(?:roll ?back|roll-back|revert|undo)\b/i,
    intent: (m) => ({ intent: 'rollback', ...opt('pipeline', m.pipeline), ...opt('version', m.version) }),
  },
  {
    // "promote v4 of churn" names what to put in production: a deploy. Without a version it
    // means finishing the canary or shadow that is on.
    test: /\b(?:promote|graduate)\b|\b(?:finish|complete|conclude)\s+(?:the\s+|a\s+|its\s+)?(?:canary|shadow)\b/i,
    intent: (m, verb) =>
      m.version !== undefined && /^(?:promote|graduate)$/i.test(verb[0])
        ? { intent: 'deploy', ...opt('pipeline', m.pipeline), version: m.version }
        : { intent: 'promote', ...opt('pipeline', m.pipeline) },
  },
  {
    test: /\b(?:deploy|ship)\b/i,
    intent: (m) => ({ intent: 'deploy', ...opt('pipeline', m.pipeline), ...opt('version', m.version) }),
  },
  {
    test: /\bdrift(?:s|ing|ed)?\b/i,
    intent: (m) => ({ intent: 'drift_report', ...opt('pipeline', m.pipeline) }),
  },
  {
    test: new RegExp(`#\\s?\\d+|${RUN_REF.source}`, 'i'),
    intent: (m) => (STATUS_CUE.test(m.text) || !STRONG_START.test(m.text) ? statusOf(m) : startOf(m)),
  },
  { test: /\bpipelines\b/i, intent: () => ({ intent: 'list_pipelines' }) },
  {
    test: /\bpipeline\b/i,
    intent: (m) => (ASK.test(m.text) && !m.pipeline ? { intent: 'list_pipelines' } : startOrUnknown(m)),
  },
  {
    test: /\b(?:models|registry|model|versions?)\b/i,
    intent: (m) => (isModelQuestion(m.text) ? listModels(m) : startOrUnknown(m)),
  },
  { test: STRONG_START, intent: startOf },
  {
    test: /\b(?:runs|history|recent|latest|running|failed|failing|pending|queued|waiting|rejected|expired|cancell?ed|active)\b/i,
    intent: (m) => ({ intent: 'list_runs', ...opt('pipeline', m.pipeline), ...opt('status', m.status) }),
  },
  {
    test: /\b(?:status|progress|how is|how's|doing|going)\b/i,
    intent: (m) => ({ intent: 'list_runs', ...opt('pipeline', m.pipeline) }),
  },
  {
    test: /\b(?:help|what can you do|what do you do|how do i|how does this work|commands|usage|capabilities)\b/i,
    intent: () => ({ intent: 'help' }),
  },
];

function classify(message: Message): Intent {
  if (message.text === '') return { intent: 'help' };
  for (const rule of RULES) {
    const verb = rule.test.exec(message.text);
    if (!verb || (rule.when && !rule.when(message))) continue;
    const intent = rule.intent(message, verb);
    if (isNegated(message.text, verb.index, intent)) {
      return {
        intent: 'unknown',
        reason: `that reads as "do not ${intent.intent.replace('_', ' ')}"; nothing to do`,
      };
    }
    return intent;
  }
  return { intent: 'unknown' };
}

/** A mutating request with "don't", "never", … before its verb is not a request. */
function isNegated(text: string, verbIndex: number, intent: Intent): boolean {
  return isMutating(intent) && NEGATION.test(text.slice(0, verbIndex));
}

function statusOf(m: Message): Intent {
  return { intent: 'run_status', ...opt('run', m.run) };
}

function startOf(m: Message): Intent {
  if (!m.pipeline && m.run) return statusOf(m);
  return {
    intent: 'start_run',
    ...opt('pipeline', m.pipeline),
    ...(Object.keys(m.params).length > 0 ? { params: m.params } : {}),
  };
}

function startOrUnknown(m: Message): Intent {
  return STRONG_START.test(m.text) ? startOf(m) : { intent: 'unknown' };
}

function listModels(m: Message): Intent {
  return { intent: 'list_models', ...opt('pipeline', m.pipeline) };
}

/**
 * "history of churn", "deployment history for churn": what served production when. A run's
 * history ("run history", "history of #12") and a bare "history" stay questions about runs.
 */
function isAliasHistory(m: Message): boolean {
  if (/\bruns?\b|#\s?\d/i.test(m.text)) return false;
  return (
    m.pipeline !== undefined || /\b(?:deploy\w*|production|prod|releases?|alias|serving)\b/i.test(m.text)
  );
}

/** "which models…", "what is in production for churn": a question about models, not "train a model". */
function isModelQuestion(text: string): boolean {
  if (STRONG_START.test(text)) return /\bmodels\b/i.test(text) && ASK.test(text);
  return (
    /\b(?:models|registry)\b/i.test(text) ||
    ASK.test(text) ||
    /\b(?:production|prod|serving|live|current)\b/i.test(text)
  );
}

/** The run: `#12`/`run 12` anywhere, or a number right after the verb ("approve 12"). */
function withRun(m: Message, verb: RegExpExecArray, intent: Intent): Intent {
  const after = /^\s+(?:the\s+)?(?:run\s+)?#?(\d+)\b/i.exec(m.text.slice(verb.index + verb[0].length))?.[1];
  const run = m.run ?? (after === undefined ? undefined : numberIn(after, /(\d+)/));
  return { ...intent, ...opt('run', run) };
}

/** "reject #12 because the AUC dropped" → "the AUC dropped"; a quoted reason wins. */
function reasonOf(m: Message, verb: RegExpExecArray): string | undefined {
  if (m.quoted) return m.quoted;
  const explicit = /\b(?:because|since|due to|reason(?: is)?:?)\s+(.+)$/i.exec(m.text)?.[1];
  if (explicit) return tidy(explicit);
  const afterRun = /^\s+(?:the\s+)?(?:run\s+)?#?\d+\b(.*)$/i.exec(
    m.text.slice(verb.index + verb[0].length),
  )?.[1];
  return afterRun === undefined ? undefined : tidy(afterRun.replace(/^\s*(?:as|for)\s+/i, ''));
}

function tidy(reason: string): string | undefined {
  const text = reason
    .replace(/^[\s,:;.\u2013\u2014-]+/, '')
    .replace(/[\s,;]*(?:please|pls|thanks|thank you)?[\s.!]*$/i, '')
    .trim();
  return /^(?:please|pls|thanks|now)?$/i.test(text) ? undefined : text;
}

/** `{ [key]: value }` when the value is present, `{}` otherwise: absent fields stay absent. */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** Words that are never read as a mistyped pipeline name. */
const VOCABULARY = new Set(
  `about after again all also and any anything approval approvals approve are available back
  because been before build built canary cancel check complete could current data dataset days
  deploy deployed deployment deployments details does doing done drift drifting each every
  failed failing finish from going hello help here history how info just kick kill last latest
  launch list look me model models month more my need needs new night now off okay on once
  only over pending pipeline pipelines please production progress promote queued recent
  refresh reject rejected release report retrain revert roll rollback run running runs same
  second see shadow should show since some start status still stop that the their them then
  there these they this those today train trigger undo using version versions very want was
  week weeks were what when where which while who why will with would yesterday your`.split(/\s+/),
);
