/**
 * Slack's text conventions, undone before parsing. Slack sends `&`, `<` and `>` typed by a
 * person as HTML entities, and a mention as `<@U123ABC>` or `<@U123ABC|name>` (the name
 * may contain spaces, which would otherwise split the mention across words). Phones and
 * macOS turn straight quotes into curly ones, which would break `"quoted reasons"`.
 */

const MENTION = /<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g;

/** `<@U123|Ada Lovelace>` becomes `<@U123>`, so a mention is always one word. */
export function normalizeMentions(text: string): string {
  return text.replace(MENTION, '<@$1>');
}

/** Removes every user mention (`@steward …` addresses the bot; the mention says nothing else). */
export function stripMentions(text: string): string {
  return text.replace(MENTION, ' ');
}

/** The user id in a mention word such as `<@U123ABC>`, or undefined when it is not one. */
export function userIdOf(word: string): string | undefined {
  return /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word)?.[1];
}

/** Slack's three escapes, reversed; `&amp;` last so `&amp;lt;` stays the text `&lt;`. */
export function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Curly quotes and apostrophes as their straight forms. */
export function straightenQuotes(text: string): string {
  return text.replace(/[\u201C\u201D\u201E\u00AB\u00BB]/g, '"').replace(/[\u2018\u2019\u201A]/g, "'");
}
