/**
 * Block constructors that cut their text to Slack's limits as they build, so a view can
 * pass whatever the data holds and still produce a payload Slack accepts.
 */
import type {
  ActionsBlock,
  Button,
  ContextBlock,
  DividerBlock,
  HeaderBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  SectionBlock,
} from '@slack/types';
import { LIMITS, truncate } from './limits.ts';

/** What every message builder returns: blocks, and `text` for notifications and screen readers. */
export type Message = { text: string; blocks: KnownBlock[] };

/** A plain-text object cut to `max`; `emoji` so `:shortcodes:` render in labels too. */
export function plain(text: string, max: number): PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max) || ' ', emoji: true };
}

export function mrkdwn(text: string, max: number = LIMITS.sectionText): MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(text, max) || ' ' };
}

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export function section(text: string, accessory?: Button): SectionBlock {
  return accessory
    ? { type: 'section', text: mrkdwn(text), accessory }
    : { type: 'section', text: mrkdwn(text) };
}

/** Label/value pairs as section fields, ten to a section (Slack's maximum). */
export function fields(pairs: readonly (readonly [string, string])[]): SectionBlock[] {
  const out: SectionBlock[] = [];
  for (let i = 0; i < pairs.length; i += LIMITS.sectionFields) {
    out.push({
      type: 'section',
      fields: pairs
        .slice(i, i + LIMITS.sectionFields)
        .map(([label, value]) => mrkdwn(`*${label}*\n${value}`, LIMITS.fieldText)),
    });
  }
  return out;
}

/** A context line; texts past Slack's ten elements are joined into the last one. */
export function context(...texts: string[]): ContextBlock {
  const shown = texts.filter((t) => t.trim() !== '');
  const max = LIMITS.contextElements;
  const elements =
    shown.length > max ? [...shown.slice(0, max - 1), shown.slice(max - 1).join(' · ')] : shown;
  return { type: 'context', elements: (elements.length ? elements : [' ']).map((t) => mrkdwn(t)) };
}

export const divider = (): DividerBlock => ({ type: 'divider' });

export type ButtonSpec = {
  text: string;
  actionId: string;
  /** Sent back with the click. Never cut (cut JSON would not parse): callers check its size. */
  value?: string;
  style?: 'primary' | 'danger';
};

export function button({ text, actionId, value, style }: ButtonSpec): Button {
  return {
    type: 'button',
    text: plain(text, LIMITS.buttonText),
    action_id: truncate(actionId, LIMITS.actionId),
    ...(value === undefined ? {} : { value }),
    ...(style ? { style } : {}),
  };
}

export function actions(buttons: readonly Button[], blockId?: string): ActionsBlock {
  const elements = buttons.slice(0, LIMITS.actionsElements);
  return blockId ? { type: 'actions', block_id: blockId, elements } : { type: 'actions', elements };
}

/**
 * Lines packed into as few sections as fit Slack's 3000 characters each, split between
 * lines; a single line longer than a section is cut.
 */
export function sections(lines: readonly string[], max: number = LIMITS.sectionText): SectionBlock[] {
  const out: SectionBlock[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (current && current.length + 1 + line.length > max) {
      out.push(section(current));
      current = line;
    } else {
      current = current ? `${current}\n${line}` : line;
    }
  }
  if (current) out.push(section(current));
  return out;
}
