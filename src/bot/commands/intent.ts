/**
 * What a person asked Steward to do, whichever way they asked: a slash command, a sentence
 * read by rules, or a sentence read by an LLM. This is the JSON `steward intent "<text>"`
 * prints (DESIGN §3), so its shape is public: add fields, never rename them.
 *
 * An intent is only a proposal. A mutating one taken from free text is confirmed with
 * buttons and authorized when it is applied; this module only guarantees that what reaches
 * that point is well-formed and names everything the action needs.
 */
import { z } from 'zod';

export const INTENT_NAMES = [
  'start_run',
  'run_status',
  'list_runs',
  'approve',
  'reject',
  'cancel_run',
  'list_pipelines',
  'list_models',
  'model_history',
  'deploy',
  'rollback',
  'promote',
  'drift_report',
  'help',
  'unknown',
] as const;

export const IntentName = z.enum(INTENT_NAMES);
export type IntentName = z.infer<typeof IntentName>;

/**
 * A parameter name in `key=value`: a letter or `_` first, then word characters, `.` or `-`
 * (so `model.epochs` and `learning-rate` pass, `1x` and `a b` do not).
 */
export const PARAM_KEY = /^[A-Za-z_][\w.-]*$/;

/** Run numbers and model versions are the `#N` / `vN` people see: positive integers. */
const Ordinal = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/**
 * Strict: an unknown key is an error rather than silently dropped, because this schema also
 * checks LLM output, where an extra key means the model did not follow the tool schema.
 */
export const Intent = z.strictObject({
  intent: IntentName,
  pipeline: z.string().min(1).optional(),
  run: Ordinal.optional(),
  version: Ordinal.optional(),
  params: z.record(z.string().regex(PARAM_KEY, 'not a parameter name'), z.string()).optional(),
  status: z.string().min(1).optional(),
  reason: z.string().min(1).optional(),
});
export type Intent = z.infer<typeof Intent>;

/** Intents that change something; they need a confirmation and a role check before they apply. */
export const MUTATING_INTENTS = [
  'start_run',
  'approve',
  'reject',
  'cancel_run',
  'deploy',
  'rollback',
  'promote',
] as const satisfies readonly IntentName[];

export function isMutating(intent: Intent | IntentName): boolean {
  const name = typeof intent === 'string' ? intent : intent.intent;
  return (MUTATING_INTENTS as readonly IntentName[]).includes(name);
}

type Field = 'pipeline' | 'run' | 'version';

/**
 * What each intent cannot do without. `deploy` needs an explicit version so that a vague
 * "deploy churn" never promotes whichever model happens to be newest; `rollback` may omit it
 * (it puts back what the last change replaced). `promote` names only the pipeline: it finishes
 * whatever canary or shadow is on. `run_status`, `model_history` and `drift_report` are listed
 * too: without a subject there is nothing to answer.
 */
const REQUIRED: Partial<Record<IntentName, { fields: Field[]; example: string }>> = {
  start_run: { fields: ['pipeline'], example: 'run churn' },
  approve: { fields: ['run'], example: 'approve #12' },
  reject: { fields: ['run'], example: 'reject #12 because the AUC dropped' },
  cancel_run: { fields: ['run'], example: 'cancel #12' },
  deploy: { fields: ['pipeline', 'version'], example: 'deploy churn v3' },
  rollback: { fields: ['pipeline'], example: 'rollback churn' },
  promote: { fields: ['pipeline'], example: 'promote churn' },
  model_history: { fields: ['pipeline'], example: 'deployment history of churn' },
  run_status: { fields: ['run'], example: 'status of #12' },
  drift_report: { fields: ['pipeline'], example: 'is churn drifting?' },
};

const FIELD_WORDS: Record<Field, string> = {
  pipeline: 'a pipeline',
  run: 'a run number',
  version: 'a version',
};

/**
 * The intent itself when it names everything it needs; otherwise `unknown` with a `reason`
 * that says what was missing and how to say it. Both parsers end with this, so an
 * LLM (or a prompt injection) proposing "deploy" with no pipeline can never reach the point
 * where someone is asked to confirm an action that means nothing.
 */
export function requireFields(intent: Intent): Intent {
  const rule = REQUIRED[intent.intent];
  if (!rule) return intent;
  const missing = rule.fields.filter((field) => intent[field] === undefined);
  if (missing.length === 0) return intent;
  const what = missing.map((field) => FIELD_WORDS[field]).join(' and ');
  return {
    intent: 'unknown',
    reason: `\`${intent.intent}\` needs ${what}, e.g. "${rule.example}"`,
  };
}
