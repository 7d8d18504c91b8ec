/**
 * Slack mrkdwn to DOM, for the local console. Every piece of text here may come from
 * someone untrusted (a typed message, a pipeline name, an LLM's answer), so nothing is
 * parsed as HTML: the text is split into tokens and each becomes an element built with
 * createElement and filled with textContent.
 *
 * Supported: *bold*, _italic_, ~strike~, `code`, ``` fenced blocks ``` (whitespace kept),
 * `> quote` lines, newlines, <@U1> and <@U1|name> mentions, <#C1|name> channels,
 * <!here>/<!channel>/<!everyone>, <url|label> and <url> links, &lt; &gt; &amp;, and a
 * few :emoji: shortcodes.
 */

const ENTITIES = { lt: '<', gt: '>', amp: '&' };

/** Slack's three entities back to characters. */
export function decodeEntities(text) {
  return text.replace(/&(lt|gt|amp);/g, (_, name) => ENTITIES[name]);
}

/** The shortcodes Steward and people use most; unknown ones stay as typed. */
const EMOJI = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  check: '✔️',
  x: '❌',
  negative_squared_cross_mark: '❎',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  warning: '⚠️',
  rocket: '🚀',
  tada: '🎉',
  eyes: '👀',
  raising_hand: '🙋',
  no_entry_sign: '🚫',
  no_entry: '⛔',
  red_circle: '🔴',
  large_green_circle: '🟢',
  green_circle: '🟢',
  white_circle: '⚪',
  stopwatch: '⏱️',
  clock3: '🕒',
  bar_chart: '📊',
  chart_with_upwards_trend: '📈',
  chart_with_downwards_trend: '📉',
  gear: '⚙️',
  '+1': '👍',
  thumbsup: '👍',
  '-1': '👎',
  thumbsdown: '👎',
  information_source: 'ℹ️',
  bulb: '💡',
  fire: '🔥',
  lock: '🔒',
  robot_face: '🤖',
  wave: '👋',
  sparkles: '✨',
  memo: '📝',
  package: '📦',
  mag: '🔍',
  bell: '🔔',
  stop_button: '⏹️',
  black_square_for_stop: '⏹️',
  arrows_counterclockwise: '🔄',
  leftwards_arrow_with_hook: '↩️',
};

/** `:rocket:` to 🚀 for the shortcodes above. */
export function replaceEmoji(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

/** A leaf of text: entities decoded, shortcodes replaced. */
function textNode(raw) {
  return document.createTextNode(replaceEmoji(decodeEntities(raw)));
}

/**
 * A link target the console may follow: http(s) or a path on this origin. Returns the
 * resolved URL and whether it leaves this origin, or null for anything else (javascript:,
 * data:, mailto:, …).
 */
export function safeLink(raw) {
  const url = raw.trim();
  if (!/^(https?:|\/)/i.test(url)) return null;
  let parsed;
  try {
    parsed = new URL(url, window.location.href);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  return { href: parsed.href, external: parsed.origin !== window.location.origin };
}

function mention(text, kind) {
  const span = document.createElement('span');
  span.className = `mention mention--${kind}`;
  span.textContent = text;
  return span;
}

/** `<…>` forms: mentions, channels, specials and links; anything else is shown as typed. */
function angle(inner, options) {
  const bar = inner.indexOf('|');
  const target = bar === -1 ? inner : inner.slice(0, bar);
  const label = bar === -1 ? '' : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const known = options.userLabel?.(id);
    return mention(`@${known || label || id}`, 'user');
  }
  if (target.startsWith('#')) {
    return mention(`#${label || target.slice(1)}`, 'channel');
  }
  if (target.startsWith('!')) {
    const special = target.slice(1);
    if (special === 'here' || special === 'channel' || special === 'everyone') {
      return mention(`@${special}`, 'special');
    }
    if (special.startsWith('subteam^')) return mention(label || '@team', 'special');
    if (special.startsWith('date^')) {
      return document.createTextNode(label || decodeEntities(special.split('^')[2] ?? ''));
    }
    return document.createTextNode(label || `@${special}`);
  }
  const href = decodeEntities(target);
  // `</b>`-like closing tags someone typed are text, not links to `/b`.
  const closingTag = bar === -1 && /^\/[a-z][\w-]*$/i.test(href);
  if (closingTag || !/^([a-z][a-z0-9+.-]*:|\/)/i.test(href)) {
    // Not markup (a stray `<` someone typed): show it exactly as written.
    return textNode(`<${inner}>`);
  }
  const link = safeLink(href);
  const shown = label || href;
  if (!link) return document.createTextNode(shown);
  const a = document.createElement('a');
  a.href = link.href;
  a.textContent = shown;
  if (link.external) {
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
  }
  return a;
}

const INLINE = /`([^`\n]+)`|<([^<>\n]+)>|(?<![\p{L}\p{N}])([*_~])(?=\S)([^\n]*?\S)\3(?![\p{L}\p{N}])/gu;
const STYLE_TAG = { '*': 'strong', _: 'em', '~': 's' };

/** One line (no newlines) of inline mrkdwn appended to `parent`. */
function inline(text, parent, options, depth = 0) {
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    if (m.index > last) parent.append(textNode(text.slice(last, m.index)));
    if (m[1] !== undefined) {
      const code = document.createElement('code');
      code.textContent = decodeEntities(m[1]);
      parent.append(code);
    } else if (m[2] !== undefined) {
      parent.append(angle(m[2], options));
    } else if (depth > 8) {
      parent.append(textNode(m[0]));
    } else {
      const el = document.createElement(STYLE_TAG[m[3]]);
      inline(m[4], el, options, depth + 1);
      parent.append(el);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(textNode(text.slice(last)));
}

const QUOTE = /^(?:>|&gt;) ?/;

/** Text between code fences: lines, with runs of `>` lines as block quotes. */
function paragraphs(text, parent, options) {
  const lines = text.split('\n');
  let quote = null;
  let afterLine = false;
  for (const line of lines) {
    if (QUOTE.test(line)) {
      if (!quote) {
        quote = document.createElement('blockquote');
        parent.append(quote);
        afterLine = false;
      } else {
        quote.append(document.createElement('br'));
      }
      inline(line.replace(QUOTE, ''), quote, options);
      continue;
    }
    if (quote) {
      quote = null;
    } else if (afterLine) {
      parent.append(document.createElement('br'));
    }
    inline(line, parent, options);
    afterLine = true;
  }
}

/**
 * Renders mrkdwn `text` as a DocumentFragment.
 * @param {string} text
 * @param {{ userLabel?: (id: string) => string | undefined }} [options] names for `<@id>` mentions
 */
export function renderMrkdwn(text, options = {}) {
  const fragment = document.createDocumentFragment();
  const source = typeof text === 'string' ? text : String(text ?? '');
  const fence = /```([\s\S]*?)```/g;
  let last = 0;
  for (const m of source.matchAll(fence)) {
    const before = source.slice(last, m.index).replace(/\n$/, '');
    if (before) paragraphs(before, fragment, options);
    const pre = document.createElement('pre');
    pre.className = 'mrkdwn-pre';
    pre.textContent = decodeEntities(m[1].replace(/^\n/, '').replace(/\n$/, ''));
    fragment.append(pre);
    last = m.index + m[0].length;
    if (source[last] === '\n') last += 1;
  }
  const rest = source.slice(last);
  if (rest) paragraphs(rest, fragment, options);
  return fragment;
}

/** Renders a plain_text string: entities are not markup here, but shortcodes are when `emoji`. */
export function renderPlain(text, emoji = true) {
  const value = typeof text === 'string' ? text : String(text ?? '');
  return document.createTextNode(emoji ? replaceEmoji(value) : value);
}
