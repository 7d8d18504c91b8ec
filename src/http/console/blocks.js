/**
 * Slack Block Kit to DOM, for the local console: the same blocks the bot posts to Slack
 * (src/bot/views) drawn in the browser. Pure functions returning nodes; no HTML strings.
 * A block this renderer does not know, or one with an odd shape, is drawn as its text (or
 * not at all), never an exception: one bad block must not hide a whole conversation.
 *
 * Clicks are handed to `options.onAction({ actionId, value, blockId, confirm, button, group })`:
 * `group` is the element holding the button and its siblings, so the caller can disable them
 * all while the click is in flight.
 */
import { renderMrkdwn, renderPlain, safeLink } from './mrkdwn.js';

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A text object (plain_text or mrkdwn) as nodes; a bare string counts as mrkdwn. */
export function renderText(obj, options = {}) {
  if (obj === null || obj === undefined) return document.createDocumentFragment();
  if (typeof obj === 'string') return renderMrkdwn(obj, options);
  if (obj.type === 'plain_text') return renderPlain(obj.text, obj.emoji !== false);
  return renderMrkdwn(obj.text ?? '', options);
}

/** A plain_text object from an object or a bare string (labels, titles, buttons). */
const asPlain = (obj) =>
  typeof obj === 'string' ? { type: 'plain_text', text: obj } : { ...(obj ?? {}), type: 'plain_text' };

/** The text of a text object with no markup, for labels and alt text. */
export function plainOf(obj) {
  if (!obj) return '';
  if (typeof obj === 'string') return obj;
  return typeof obj.text === 'string' ? obj.text : '';
}

/** Image sources the console shows: http(s), this origin's paths, and base64 PNG/SVG. */
export function safeImageUrl(url) {
  if (typeof url !== 'string') return null;
  const u = url.trim();
  if (/^(https?:|\/)/i.test(u)) {
    try {
      const parsed = new URL(u, window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch {
      return null;
    }
  }
  if (u.startsWith('data:image/png;base64,') || u.startsWith('data:image/svg+xml;base64,')) return u;
  return null;
}

function altText(alt) {
  return el('span', 'bk-alt', alt ? `[${alt}]` : '[image]');
}

/** An <img>, or its alt text when the URL is not one we load or the image fails. */
function image(url, alt, className) {
  const src = safeImageUrl(url);
  const text = typeof alt === 'string' ? alt : '';
  if (!src) return altText(text);
  const img = el('img', className);
  img.alt = text;
  img.decoding = 'async';
  img.loading = 'lazy';
  img.addEventListener('error', () => img.replaceWith(altText(text)), { once: true });
  img.src = src;
  return img;
}

/** A Block Kit button: a <button>, or a link styled as one when it has a safe `url`. */
function button(element, blockId, options) {
  const label = plainOf(element.text) || 'Button';
  const style = element.style === 'primary' || element.style === 'danger' ? element.style : 'default';
  if (typeof element.url === 'string') {
    const link = safeLink(element.url);
    if (link) {
      const a = el('a', `bk-btn bk-btn--${style}`);
      a.href = link.href;
      a.append(renderText(element.text));
      if (link.external) {
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
      }
      if (element.action_id) a.dataset.actionId = element.action_id;
      return a;
    }
  }
  const b = el('button', `bk-btn bk-btn--${style}`);
  b.type = 'button';
  b.append(renderText(element.text));
  if (element.action_id) b.dataset.actionId = element.action_id;
  if (element.accessibility_label) b.setAttribute('aria-label', element.accessibility_label);
  else if (b.textContent !== label) b.setAttribute('aria-label', label);
  b.addEventListener('click', () => {
    options.onAction?.({
      actionId: element.action_id ?? '',
      value: typeof element.value === 'string' ? element.value : '',
      blockId,
      confirm: element.confirm ?? null,
      button: b,
      group: b.closest('.bk-actions') ?? b,
    });
  });
  return b;
}

/** An element inside a section's accessory or an actions block. */
function interactive(element, blockId, options) {
  if (!element || typeof element !== 'object') return null;
  if (element.type === 'button') return button(element, blockId, options);
  if (element.type === 'image') return image(element.image_url, element.alt_text, 'bk-accessory-img');
  // Selects, date pickers, overflow menus: not drawn by Steward's views; say so quietly.
  const hint = plainOf(element.placeholder) || plainOf(element.text);
  return hint ? el('span', 'bk-unsupported', hint) : null;
}

function header(block) {
  const h = el('h3', 'bk-header');
  h.append(renderText(asPlain(block.text)));
  return h;
}

function section(block, options) {
  const div = el('div', 'bk-section');
  const body = el('div', 'bk-section-body');
  if (block.text) {
    const text = el('div', 'bk-text');
    text.append(renderText(block.text, options));
    body.append(text);
  }
  if (Array.isArray(block.fields) && block.fields.length) {
    const grid = el('div', 'bk-fields');
    for (const field of block.fields) {
      const cell = el('div', 'bk-field');
      cell.append(renderText(field, options));
      grid.append(cell);
    }
    body.append(grid);
  }
  div.append(body);
  const accessory = interactive(block.accessory, block.block_id, options);
  if (accessory) {
    const slot = el('div', 'bk-accessory');
    slot.append(accessory);
    div.append(slot);
  }
  return div;
}

function context(block, options) {
  const div = el('div', 'bk-context');
  for (const element of Array.isArray(block.elements) ? block.elements : []) {
    if (element?.type === 'image') {
      div.append(image(element.image_url, element.alt_text, 'bk-context-img'));
    } else {
      const span = el('span', 'bk-context-text');
      span.append(renderText(element, options));
      div.append(span);
    }
  }
  return div;
}

function actions(block, options) {
  const div = el('div', 'bk-actions');
  div.setAttribute('role', 'group');
  for (const element of Array.isArray(block.elements) ? block.elements : []) {
    const node = interactive(element, block.block_id, options);
    if (node) div.append(node);
  }
  return div;
}

function imageBlock(block) {
  const figure = el('figure', 'bk-image');
  if (block.title) {
    const caption = el('figcaption', 'bk-image-title');
    caption.append(renderText(asPlain(block.title)));
    figure.append(caption);
  }
  figure.append(image(block.image_url, block.alt_text, 'bk-image-img'));
  return figure;
}

/** An `input` block (modals): label, the field, hint, and a slot for the server's error. */
function input(block) {
  const wrap = el('div', 'bk-input');
  const blockId = block.block_id ?? nextId('block');
  wrap.dataset.blockId = blockId;
  const element = block.element ?? {};
  const id = nextId('input');
  const label = el('label', 'bk-input-label');
  label.htmlFor = id;
  label.append(renderText(asPlain(block.label)));
  if (block.optional) label.append(el('span', 'bk-optional', ' (optional)'));
  wrap.append(label);

  const described = [];
  let hint = null;
  if (block.hint) {
    hint = el('p', 'bk-hint');
    hint.id = `${id}-hint`;
    hint.append(renderText(asPlain(block.hint)));
    described.push(hint.id);
  }
  const error = el('p', 'bk-error');
  error.id = `${id}-error`;
  error.hidden = true;

  if (element.type === 'plain_text_input') {
    const field = element.multiline ? el('textarea', 'bk-field-input') : el('input', 'bk-field-input');
    if (!element.multiline) field.type = 'text';
    else field.rows = 4;
    field.id = id;
    field.name = element.action_id ?? 'value';
    field.dataset.inputActionId = element.action_id ?? '';
    if (Number.isInteger(element.min_length) && element.min_length > 0) field.minLength = element.min_length;
    if (Number.isInteger(element.max_length) && element.max_length > 0) field.maxLength = element.max_length;
    if (element.placeholder) field.placeholder = plainOf(element.placeholder);
    if (typeof element.initial_value === 'string') field.value = element.initial_value;
    if (!block.optional) field.required = true;
    if (element.focus_on_load) field.autofocus = true;
    if (described.length) field.setAttribute('aria-describedby', described.join(' '));
    wrap.append(field);
  } else {
    const note = el('p', 'bk-unsupported', 'This kind of input cannot be filled in the console.');
    note.id = id;
    wrap.append(note);
  }
  if (hint) wrap.append(hint);
  wrap.append(error);
  return wrap;
}

/** What to draw for a block this renderer does not know: its text, if it has any. */
function fallback(block, options) {
  const text = block?.text ? plainOf(block.text) : '';
  if (!text) return null;
  const div = el('div', 'bk-section bk-fallback');
  const body = el('div', 'bk-section-body');
  body.append(renderText(block.text, options));
  div.append(body);
  return div;
}

const RENDERERS = {
  header,
  section,
  context,
  divider: () => el('hr', 'bk-divider'),
  actions,
  image: imageBlock,
  input,
};

/** One block as a node, or null. Never throws. */
export function renderBlock(block, options = {}) {
  if (!block || typeof block !== 'object') return null;
  try {
    const render = RENDERERS[block.type];
    const node = render ? render(block, options) : fallback(block, options);
    if (node && block.block_id && !node.dataset.blockId) node.dataset.blockId = block.block_id;
    return node;
  } catch {
    try {
      return fallback(block, options);
    } catch {
      return null;
    }
  }
}

/**
 * Blocks as a DocumentFragment.
 * @param {unknown[]} blocks
 * @param {{ onAction?: Function, userLabel?: (id: string) => string | undefined }} [options]
 */
export function renderBlocks(blocks, options = {}) {
  const fragment = document.createDocumentFragment();
  for (const block of Array.isArray(blocks) ? blocks : []) {
    const node = renderBlock(block, options);
    if (node) fragment.append(node);
  }
  return fragment;
}

/**
 * A view: the App Home (`type: 'home'`) as a <div> of blocks, or a modal as a <form> with
 * its title (`#modal-title`), an alert slot, the blocks, and Close and Submit buttons
 * (`[data-modal-close]`, `[data-modal-submit]`). The caller puts the form in a <dialog>
 * and handles its submit event.
 */
export function renderView(view, options = {}) {
  if (view?.type !== 'modal') {
    const div = el('div', 'bk-view bk-view--home');
    div.append(renderBlocks(view?.blocks, options));
    return div;
  }
  const form = el('form', 'bk-modal');
  const title = el('h2', 'bk-modal-title');
  title.id = 'modal-title';
  title.append(renderText(asPlain(view.title ?? 'Steward')));
  const alert = el('div', 'bk-modal-alert');
  alert.setAttribute('role', 'alert');
  alert.dataset.modalAlert = '';
  const body = el('div', 'bk-modal-body');
  body.append(renderBlocks(view.blocks, options));
  const footer = el('div', 'bk-modal-footer');
  const close = el('button', 'bk-btn bk-btn--default');
  close.type = 'button';
  close.dataset.modalClose = '';
  close.append(renderText(asPlain(view.close ?? (view.submit ? 'Cancel' : 'Close'))));
  footer.append(close);
  if (view.submit) {
    const submit = el('button', 'bk-btn bk-btn--primary');
    submit.type = 'submit';
    submit.dataset.modalSubmit = '';
    submit.append(renderText(asPlain(view.submit)));
    footer.append(submit);
  }
  form.append(title, alert, body, footer);
  return form;
}

/** A modal's typed values as Slack sends them: `{ [block_id]: { [action_id]: { value } } }`. */
export function readViewValues(root) {
  const values = {};
  for (const wrap of root.querySelectorAll('.bk-input[data-block-id]')) {
    const field = wrap.querySelector('[data-input-action-id]');
    if (!field) continue;
    const blockId = wrap.dataset.blockId;
    values[blockId] ??= {};
    values[blockId][field.dataset.inputActionId] = { value: field.value };
  }
  return values;
}

/**
 * Shows the server's per-block errors next to their inputs (clearing old ones) and returns
 * the first field with an error, to focus. Errors for blocks not in the form are returned
 * in `unplaced` so the caller can show them elsewhere.
 */
export function showViewErrors(root, errors = {}) {
  let first = null;
  const unplaced = [];
  const placed = new Set();
  for (const wrap of root.querySelectorAll('.bk-input[data-block-id]')) {
    const field = wrap.querySelector('[data-input-action-id]');
    const error = wrap.querySelector('.bk-error');
    const message = errors[wrap.dataset.blockId];
    if (!error) continue;
    const describedBy = (field?.getAttribute('aria-describedby') ?? '')
      .split(' ')
      .filter((x) => x && x !== error.id);
    if (typeof message === 'string' && message) {
      placed.add(wrap.dataset.blockId);
      error.textContent = message;
      error.hidden = false;
      wrap.classList.add('bk-input--invalid');
      if (field) {
        field.setAttribute('aria-invalid', 'true');
        describedBy.unshift(error.id);
        first ??= field;
      }
    } else {
      error.textContent = '';
      error.hidden = true;
      wrap.classList.remove('bk-input--invalid');
      field?.removeAttribute('aria-invalid');
    }
    if (field) {
      if (describedBy.length) field.setAttribute('aria-describedby', describedBy.join(' '));
      else field.removeAttribute('aria-describedby');
    }
  }
  for (const [blockId, message] of Object.entries(errors ?? {})) {
    if (!placed.has(blockId) && typeof message === 'string') unplaced.push(message);
  }
  return { first, unplaced };
}
