/**
 * The confirmation card for a mutating intent read from free text. The intent parser
 * (an LLM, or rules) only proposes; nothing changes until the person who wrote the
 * message presses the confirm button, and roles are checked when that click is applied.
 * The button carries the intent itself as compact JSON, so confirming needs no server-side
 * state and works on any replica.
 */
import { Intent, isMutating, type MUTATING_INTENTS, requireFields } from '../commands/intent.ts';
import { actions, button, context, type Message, section } from './blocks.ts';
import { escapeText, formatParams } from './format.ts';
import { LIMITS, truncate } from './limits.ts';

export const CONFIRM_ACTION = 'intent.confirm';
export const DISMISS_ACTION = 'intent.dismiss';

/** An intent this card confirms: one that changes something. */
export type MutatingIntent = Intent & { intent: (typeof MUTATING_INTENTS)[number] };

const isMutatingIntent = (intent: Intent): intent is MutatingIntent => isMutating(intent);

/** Reads a confirm button's value back; null when it is not a mutating intent (an old card, a forged payload). */
export function parseIntentValue(value: string | undefined): MutatingIntent | null {
  if (!value) return null;
  try {
    const parsed = Intent.safeParse(JSON.parse(value));
    return parsed.success && isMutatingIntent(parsed.data) ? parsed.data : null;
  } catch {
    return null;
  }
}

const name = (pipeline: string | undefined) => `*${escapeText(truncate(pipeline ?? '', 80))}*`;
const runRef = (run: number | undefined) => `run *#${run}*`;
const reasonOf = (reason: string | undefined) =>
  reason ? ` Reason: _${escapeText(truncate(reason, 1000))}_` : '';

/** The question, and the confirm button's label and style, per intent. */
function phrase(intent: MutatingIntent): {
  question: string;
  yes: string;
  no: string;
  style: 'primary' | 'danger';
} {
  switch (intent.intent) {
    case 'start_run': {
      const params = intent.params && Object.keys(intent.params).length ? intent.params : null;
      const withParams = params ? ` with ${escapeText(formatParams(params, 1000, ', '))}` : '';
      return {
        question: `Start a run of ${name(intent.pipeline)}${withParams}?`,
        yes: 'Start',
        no: 'Cancel',
        style: 'primary',
      };
    }
    case 'approve':
      return {
        question: `Approve ${runRef(intent.run)} for deployment?`,
        yes: 'Approve',
        no: 'Cancel',
        style: 'primary',
      };
    case 'reject':
      return {
        question: `Reject ${runRef(intent.run)}?${reasonOf(intent.reason)}`,
        yes: 'Reject',
        no: 'Cancel',
        style: 'danger',
      };
    case 'cancel_run':
      return {
        question: `Cancel ${runRef(intent.run)}? It stops where it is and deploys nothing.${reasonOf(intent.reason)}`,
        yes: 'Cancel the run',
        no: 'Keep it running',
        style: 'danger',
      };
    case 'deploy':
      return {
        question:
          intent.version === undefined
            ? `Deploy the latest model of ${name(intent.pipeline)}, as its spec's deploy strategy says (replace, shadow or canary)?`
            : `Deploy ${name(intent.pipeline)} v${intent.version}, as its spec's deploy strategy says (replace, shadow or canary)?`,
        yes: 'Deploy',
        no: 'Cancel',
        style: 'primary',
      };
    case 'rollback':
      return {
        question:
          intent.version === undefined
            ? `Roll ${name(intent.pipeline)} back, undoing the last change to its production model?`
            : `Roll ${name(intent.pipeline)} back to v${intent.version}?`,
        yes: 'Roll back',
        no: 'Cancel',
        style: 'danger',
      };
    case 'promote':
      return {
        question: `Promote ${name(intent.pipeline)}: finish its canary or shadow deployment, so the candidate serves all traffic?`,
        yes: 'Promote',
        no: 'Cancel',
        style: 'primary',
      };
  }
}

export type ConfirmCardOptions = {
  /** What the person wrote, quoted under the question so they can see what was understood. */
  heard?: string;
};

export type ConfirmCard = ({ ok: true } & Message) | { ok: false; error: string };

/**
 * The "did you mean…?" card for `intent`, with [confirm] and [cancel] buttons. Fails
 * (`ok: false`, with a sentence to show instead) when the intent changes nothing, lacks
 * what it needs (`requireFields`), or is too large for a button's 2000-character value
 * (a novel-length reason).
 */
export function confirmCard(intent: Intent, options: ConfirmCardOptions = {}): ConfirmCard {
  const checked = requireFields(intent);
  if (checked.intent === 'unknown') {
    return { ok: false, error: checked.reason ?? 'I could not tell what to do. Try `/mlops help`.' };
  }
  if (!isMutatingIntent(checked)) {
    return { ok: false, error: `\`${checked.intent}\` changes nothing, so there is nothing to confirm.` };
  }
  const parsed = Intent.safeParse(checked);
  if (!parsed.success || !isMutatingIntent(parsed.data)) {
    return { ok: false, error: 'I could not read that request well enough to act on it. Try `/mlops help`.' };
  }
  // Compact JSON of the validated intent: only the fields it has, in the schema's order.
  const value = JSON.stringify(parsed.data);
  if (value.length > LIMITS.buttonValue) {
    return {
      ok: false,
      error:
        `That request is too long to confirm with a button (${value.length} characters, at most ${LIMITS.buttonValue}). ` +
        'Shorten the reason or the parameters, or use the slash command.',
    };
  }
  const { question, yes, no, style } = phrase(parsed.data);
  const heard = options.heard?.trim()
    ? `You wrote: “${escapeText(truncate(options.heard.trim(), 500))}”`
    : '';
  return {
    ok: true,
    text: truncate(question.replace(/[*_]/g, ''), 500),
    blocks: [
      section(question),
      context(heard, 'Nothing happens until you confirm; your roles are checked then.'),
      actions([
        button({ text: yes, actionId: CONFIRM_ACTION, value, style }),
        button({ text: no, actionId: DISMISS_ACTION, value }),
      ]),
    ],
  };
}
