/**
 * Steward's local chat console: the browser side of the console chat adapter. It shows
 * the conversation the server keeps (GET /api/console/state, then Server-Sent Events),
 * draws Block Kit with blocks.js, and sends what the person types or clicks back as JSON
 * POSTs carrying the CSRF token from /api/whoami. It never adds messages itself: the
 * server's answers arrive over the event stream.
 */
import { plainOf, readViewValues, renderBlocks, renderText, renderView, showViewErrors } from './blocks.js';
import { renderMrkdwn } from './mrkdwn.js';

const $ = (id) => document.getElementById(id);

const ui = {
  status: $('live-status'),
  identity: $('identity'),
  alerts: $('alerts'),
  navHome: $('nav-home'),
  navChannels: $('nav-channels'),
  navDms: $('nav-dms'),
  title: $('channel-title'),
  log: $('log'),
  home: $('home'),
  composerForm: $('composer-form'),
  composer: $('composer'),
  composerLabel: $('composer-label'),
  thread: $('thread'),
  threadTitle: $('thread-title'),
  threadLog: $('thread-log'),
  threadForm: $('thread-form'),
  threadComposer: $('thread-composer'),
  threadClose: $('thread-close'),
  modal: $('modal'),
  confirm: $('confirm'),
  confirmTitle: $('confirm-title'),
  confirmText: $('confirm-text'),
  confirmOk: $('confirm-ok'),
  confirmDeny: $('confirm-deny'),
};

const HOME = 'home';

const state = {
  csrf: '',
  user: '',
  me: null,
  personas: null,
  channels: [],
  /** id → Message, every message the server sent for the acting person. */
  messages: new Map(),
  home: null,
  /** The channel id shown, or HOME. */
  current: null,
  /** The root id of the open thread, or null. */
  thread: null,
  /** channel id → count of new messages not seen. */
  unread: new Map(),
  /** Ephemeral messages the person dismissed (kept until the page reloads). */
  dismissed: new Set(),
  lastSent: { main: '', thread: '' },
  /** The id of a message whose sending failed, reused when the same text is sent again. */
  unsent: { main: null, thread: null },
  loaded: false,
};

/** Message elements by id, for each log, so updates replace them in place. */
const mainNodes = new Map();
const threadNodes = new Map();

// ---------------------------------------------------------------- alerts and requests

function showAlert(message) {
  const item = document.createElement('div');
  item.className = 'alert';
  const text = document.createElement('p');
  text.className = 'alert-text';
  text.textContent = message;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'alert-close';
  close.textContent = 'Dismiss';
  close.setAttribute('aria-label', `Dismiss: ${message}`);
  close.addEventListener('click', () => item.remove());
  item.append(text, close);
  ui.alerts.append(item);
  while (ui.alerts.children.length > 4) ui.alerts.firstElementChild?.remove();
}

/** The server's `{ error: { code, message, errors? } }` from a failed answer, or a sentence naming the status. */
async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON (a proxy's page, an empty body): name the status instead.
  }
  const error = body?.error;
  const message =
    typeof error?.message === 'string' && error.message
      ? error.message
      : `The server answered ${response.status} ${response.statusText || ''}`.trim();
  return { message, body: error && typeof error === 'object' ? { errors: error.errors } : null };
}

/**
 * A JSON request. Resolves to `{ ok, status, body }`; a failure is shown in the alert
 * area unless `quiet` (the caller shows it itself, as the modal does).
 */
async function request(path, { body, quiet = false } = {}) {
  const init =
    body === undefined
      ? { method: 'GET', headers: { Accept: 'application/json' } }
      : {
          method: 'POST',
          headers: {
            'Content-Type': 'application/json',
            Accept: 'application/json',
            'X-CSRF-Token': state.csrf,
          },
          body: JSON.stringify(body),
        };
  init.credentials = 'same-origin';
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    const message = 'Could not reach the Steward server. Is `npm start` (`steward start`) still running?';
    if (!quiet) showAlert(message);
    return { ok: false, status: 0, body: { error: message } };
  }
  if (!response.ok) {
    const { message, body: errorBody } = await errorOf(response);
    if (!quiet) showAlert(message);
    return { ok: false, status: response.status, body: { ...(errorBody ?? {}), error: message } };
  }
  let data = null;
  try {
    data = response.status === 204 ? null : await response.json();
  } catch {
    data = null;
  }
  return { ok: true, status: response.status, body: data };
}

const newId = () =>
  typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

// ---------------------------------------------------------------- people and names

function personaOf(id) {
  return state.personas?.find((p) => p.id === id) ?? null;
}

/** A name for `<@id>` mentions and authors: the persona's label when known. */
function userLabel(id) {
  if (id === 'steward') return 'Steward';
  return personaOf(id)?.label;
}

const acting = () => state.me?.acting ?? state.me?.user ?? state.user;

function renderIdentity() {
  ui.identity.replaceChildren();
  if (!Array.isArray(state.personas) || state.personas.length === 0) {
    const p = document.createElement('p');
    p.className = 'signed-in';
    p.textContent = `Signed in as ${state.me?.user ?? state.user ?? 'unknown'}`;
    ui.identity.append(p);
    return;
  }
  const label = document.createElement('label');
  label.htmlFor = 'persona';
  label.className = 'persona-label';
  label.textContent = 'Act as';
  const select = document.createElement('select');
  select.id = 'persona';
  select.className = 'persona-select';
  for (const persona of state.personas) {
    const option = document.createElement('option');
    option.value = persona.id;
    option.textContent = `${persona.label} (${persona.role})`;
    option.selected = persona.id === acting();
    select.append(option);
  }
  select.addEventListener('change', () => switchPersona(select));
  ui.identity.append(label, select);
}

async function switchPersona(select) {
  const previous = acting();
  const persona = select.value;
  select.disabled = true;
  delete document.body.dataset.liveAs;
  const result = await request('/api/console/persona', { body: { persona } });
  select.disabled = false;
  if (!result.ok) {
    select.value = previous;
    select.focus();
    return;
  }
  state.unread.clear();
  state.dismissed.clear();
  await loadState({ fresh: true });
  connect(); // and its opening fetches the state again, for what changed in between
  $('persona')?.focus();
}

// ---------------------------------------------------------------- navigation

function channelName(channel) {
  return channel.kind === 'dm' ? channel.name : `#${channel.name}`;
}

function navItem(id, text) {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'nav-item';
  b.dataset.channel = id;
  const name = document.createElement('span');
  name.className = 'nav-name';
  name.textContent = text;
  b.append(name);
  const count = state.unread.get(id) ?? 0;
  if (count > 0 && id !== state.current) {
    b.classList.add('nav-item--unread');
    const badge = document.createElement('span');
    badge.className = 'nav-badge';
    badge.textContent = String(count);
    badge.setAttribute('aria-hidden', 'true');
    b.append(badge);
    b.setAttribute('aria-label', `${text}, ${count} unread ${count === 1 ? 'message' : 'messages'}`);
  }
  if (id === state.current) b.setAttribute('aria-current', 'page');
  b.addEventListener('click', () => {
    select(id);
    ui.title.focus();
  });
  li.append(b);
  return li;
}

function renderNav() {
  const focused = document.activeElement?.closest?.('.nav-item')?.dataset.channel;
  ui.navHome.replaceChildren(navItem(HOME, 'Home'));
  ui.navChannels.replaceChildren(
    ...state.channels.filter((c) => c.kind !== 'dm').map((c) => navItem(c.id, channelName(c))),
  );
  ui.navDms.replaceChildren(
    ...state.channels.filter((c) => c.kind === 'dm').map((c) => navItem(c.id, channelName(c))),
  );
  ui.navDms.previousElementSibling.hidden = ui.navDms.children.length === 0;
  if (focused) document.querySelector(`.nav-item[data-channel="${CSS.escape(focused)}"]`)?.focus();
}

function select(id) {
  if (id !== HOME && !state.channels.some((c) => c.id === id)) return;
  state.current = id;
  state.unread.delete(id);
  if (state.thread && state.messages.get(state.thread)?.channel !== id) closeThread(false);
  renderNav();
  renderMain();
}

// ---------------------------------------------------------------- messages

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function timeElement(iso) {
  const time = document.createElement('time');
  time.className = 'msg-time';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    time.textContent = '';
    return time;
  }
  time.dateTime = date.toISOString();
  time.textContent = timeFormat.format(date);
  time.title = fullFormat.format(date);
  return time;
}

const visibleInChannel = (m, channel) => m.channel === channel && !m.thread && !state.dismissed.has(m.id);

const repliesOf = (rootId) =>
  [...state.messages.values()].filter((m) => m.thread === rootId && !state.dismissed.has(m.id));

/** Replies as the root counts them: ephemeral ones are not part of the thread for others. */
const replyCount = (rootId) => repliesOf(rootId).filter((m) => !m.ephemeral).length;

const blockOptions = (message) => ({
  userLabel,
  onAction: (click) => act(click, { message: { channel: message.channel, id: message.id } }),
});

/** One message's element: author, time, body, and (for a root) its replies button. */
function renderMessage(message, { inThread = false } = {}) {
  const article = document.createElement('article');
  article.className = 'msg';
  article.dataset.messageId = message.id;
  if (message.ephemeral) article.classList.add('msg--ephemeral');
  if (message.author === 'steward') article.classList.add('msg--bot');

  const head = document.createElement('div');
  head.className = 'msg-head';
  const author = document.createElement('span');
  author.className = 'msg-author';
  author.textContent =
    message.author === 'steward' ? 'Steward' : (userLabel(message.author) ?? message.author);
  head.append(author);
  if (message.author === 'steward') {
    const badge = document.createElement('span');
    badge.className = 'app-badge';
    badge.textContent = 'App';
    head.append(badge);
  }
  head.append(timeElement(message.createdAt));
  if (message.ephemeral) {
    const only = document.createElement('span');
    only.className = 'ephemeral-note';
    only.textContent = 'Only visible to you';
    head.append(only);
  }
  article.append(head);

  const body = document.createElement('div');
  body.className = 'msg-body';
  if (Array.isArray(message.blocks) && message.blocks.length) {
    body.append(renderBlocks(message.blocks, blockOptions(message)));
    if (!body.childNodes.length) body.append(renderMrkdwn(message.text ?? '', { userLabel }));
  } else {
    body.append(renderMrkdwn(message.text ?? '', { userLabel }));
  }
  article.append(body);

  const foot = document.createElement('div');
  foot.className = 'msg-foot';
  if (!inThread && !message.thread) foot.append(repliesButton(message));
  if (message.ephemeral) {
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'link-btn';
    dismiss.textContent = 'Dismiss';
    dismiss.setAttribute('aria-label', 'Dismiss this message (only visible to you)');
    dismiss.addEventListener('click', () => dismissMessage(message.id));
    foot.append(dismiss);
  }
  if (foot.childNodes.length) article.append(foot);
  return article;
}

/** The "N replies" button of a root, or an empty placeholder when it has none. */
function repliesButton(message) {
  const slot = document.createElement('span');
  slot.className = 'msg-replies';
  const count = replyCount(message.id);
  if (count > 0) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link-btn replies-btn';
    b.dataset.threadRoot = message.id;
    b.textContent = count === 1 ? '1 reply' : `${count} replies`;
    b.setAttribute('aria-expanded', String(state.thread === message.id));
    b.addEventListener('click', () => openThread(message.id));
    slot.append(b);
  }
  return slot;
}

function updateRepliesButton(rootId) {
  const node = mainNodes.get(rootId);
  if (!node) return;
  const old = node.querySelector('.msg-replies');
  const message = state.messages.get(rootId);
  if (!old || !message) {
    replaceNode(mainNodes, message, ui.log, {});
    return;
  }
  const hadFocus = old.contains(document.activeElement);
  const stick = atBottom(ui.log);
  const next = repliesButton(message);
  old.replaceWith(next);
  if (hadFocus) next.querySelector('button')?.focus();
  if (stick) scrollToBottom(ui.log);
}

function dismissMessage(id) {
  state.dismissed.add(id);
  for (const nodes of [mainNodes, threadNodes]) {
    const node = nodes.get(id);
    if (!node) continue;
    const next = node.nextElementSibling ?? node.previousElementSibling;
    if (node.contains(document.activeElement)) {
      (next?.querySelector('button, a') ?? ui.composer).focus();
    }
    node.remove();
    nodes.delete(id);
  }
}

const atBottom = (log) => log.scrollHeight - log.scrollTop - log.clientHeight < 48;
const scrollToBottom = (log) => {
  log.scrollTop = log.scrollHeight;
};

/**
 * Keeps a log at the bottom when its box shrinks or grows (an alert appears, the window
 * is resized) while the person was reading the newest messages.
 */
function stickToBottom(log) {
  let stuck = true;
  log.addEventListener('scroll', () => {
    stuck = atBottom(log);
  });
  new ResizeObserver(() => {
    if (stuck) scrollToBottom(log);
  }).observe(log);
}

/**
 * Replaces a message's element in place (or appends it), keeping focus on the same
 * control when it had it, and the view at the bottom when it was there.
 */
function replaceNode(nodes, message, log, options) {
  if (!message) return;
  const old = nodes.get(message.id);
  const stick = atBottom(log);
  const next = renderMessage(message, options);
  let focusAction = null;
  if (old?.contains(document.activeElement)) {
    focusAction = document.activeElement.dataset?.actionId ?? '';
  }
  if (old?.isConnected) old.replaceWith(next);
  else log.append(next);
  nodes.set(message.id, next);
  if (focusAction !== null) {
    const target =
      (focusAction && next.querySelector(`[data-action-id="${CSS.escape(focusAction)}"]:not([disabled])`)) ||
      next;
    if (target === next) next.tabIndex = -1;
    target.focus({ preventScroll: true });
  }
  if (stick) scrollToBottom(log);
}

function emptyNote(text) {
  const p = document.createElement('p');
  p.className = 'empty';
  p.textContent = text;
  return p;
}

function renderMain() {
  mainNodes.clear();
  const home = state.current === HOME;
  ui.log.hidden = home;
  ui.home.hidden = !home;
  ui.composerForm.hidden = home;
  if (home) {
    ui.title.textContent = 'Home';
    renderHome();
    return;
  }
  const channel = state.channels.find((c) => c.id === state.current);
  ui.title.textContent = channel ? channelName(channel) : 'No channel';
  ui.composerLabel.textContent = channel ? `Message ${channelName(channel)}` : 'Message';
  // Busy while rebuilt, so screen readers do not read the whole history as new.
  ui.log.setAttribute('aria-busy', 'true');
  ui.log.replaceChildren();
  for (const message of state.messages.values()) {
    if (!visibleInChannel(message, state.current)) continue;
    const node = renderMessage(message);
    mainNodes.set(message.id, node);
    ui.log.append(node);
  }
  if (!mainNodes.size) ui.log.append(emptyNote('No messages yet. Type /mlops help to start.'));
  scrollToBottom(ui.log);
  ui.log.setAttribute('aria-busy', 'false');
}

function renderHome() {
  ui.home.replaceChildren();
  if (!state.home) {
    ui.home.append(emptyNote('Nothing to show on Home yet.'));
    return;
  }
  ui.home.append(
    renderView(state.home, {
      userLabel,
      onAction: (click) => act(click, { view: { type: 'home' } }),
    }),
  );
}

// ---------------------------------------------------------------- thread panel

function openThread(rootId) {
  state.thread = rootId;
  ui.thread.hidden = false;
  document.body.classList.add('thread-open');
  renderThread();
  for (const b of ui.log.querySelectorAll('.replies-btn')) {
    b.setAttribute('aria-expanded', String(b.dataset.threadRoot === rootId));
  }
  ui.threadTitle.focus();
}

function closeThread(restoreFocus = true) {
  const rootId = state.thread;
  state.thread = null;
  ui.thread.hidden = true;
  document.body.classList.remove('thread-open');
  threadNodes.clear();
  ui.threadLog.replaceChildren();
  for (const b of ui.log.querySelectorAll('.replies-btn')) b.setAttribute('aria-expanded', 'false');
  if (restoreFocus && rootId) {
    const b = ui.log.querySelector(`.replies-btn[data-thread-root="${CSS.escape(rootId)}"]`);
    (b ?? ui.composer).focus();
  }
}

function renderThread() {
  threadNodes.clear();
  ui.threadLog.setAttribute('aria-busy', 'true');
  ui.threadLog.replaceChildren();
  const root = state.messages.get(state.thread);
  if (!root) {
    closeThread(false);
    return;
  }
  const channel = state.channels.find((c) => c.id === root.channel);
  ui.threadTitle.textContent = channel ? `Thread in ${channelName(channel)}` : 'Thread';
  const rootNode = renderMessage(root, { inThread: true });
  rootNode.classList.add('msg--root');
  threadNodes.set(root.id, rootNode);
  ui.threadLog.append(rootNode);
  const replies = repliesOf(root.id);
  const count = document.createElement('p');
  count.className = 'thread-count';
  const n = replyCount(root.id);
  count.textContent = n === 1 ? '1 reply' : `${n} replies`;
  ui.threadLog.append(count);
  for (const reply of replies) {
    const node = renderMessage(reply, { inThread: true });
    threadNodes.set(reply.id, node);
    ui.threadLog.append(node);
  }
  scrollToBottom(ui.threadLog);
  ui.threadLog.setAttribute('aria-busy', 'false');
}

function updateThreadCount() {
  const count = ui.threadLog.querySelector('.thread-count');
  if (count && state.thread) {
    const n = replyCount(state.thread);
    count.textContent = n === 1 ? '1 reply' : `${n} replies`;
  }
}

// ---------------------------------------------------------------- live updates

/** A new or changed message from the server: stored, and drawn wherever it shows. */
/** Whether `message` is older than the copy the page has (an event and a state fetch can cross). */
function isStale(message) {
  const have = state.messages.get(message.id);
  return Boolean(have && typeof have.updatedAt === 'string' && have.updatedAt > message.updatedAt);
}

function upsert(message) {
  if (!message || typeof message.id !== 'string' || isStale(message)) return;
  const known = state.messages.has(message.id);
  state.messages.set(message.id, message);
  if (state.dismissed.has(message.id)) return;

  if (message.thread) {
    if (state.thread === message.thread) {
      replaceNode(threadNodes, message, ui.threadLog, { inThread: true });
      updateThreadCount();
    }
    updateRepliesButton(message.thread);
    return;
  }
  if (state.thread === message.id) {
    const node = threadNodes.get(message.id);
    if (node) {
      replaceNode(threadNodes, message, ui.threadLog, { inThread: true });
      threadNodes.get(message.id)?.classList.add('msg--root');
    }
  }
  if (message.channel === state.current) {
    if (!mainNodes.size) ui.log.replaceChildren();
    replaceNode(mainNodes, message, ui.log, {});
  } else if (!known && message.author !== acting()) {
    if (state.channels.some((c) => c.id === message.channel)) {
      state.unread.set(message.channel, (state.unread.get(message.channel) ?? 0) + 1);
      renderNav();
    }
  }
}

let source = null;
let hadError = false;
let retryTimer = 0;

function setStatus(kind) {
  ui.status.dataset.state = kind;
  ui.status.textContent =
    kind === 'live'
      ? 'Live'
      : kind === 'connecting'
        ? 'Connecting…'
        : kind === 'offline'
          ? 'Offline'
          : 'Reconnecting…';
}

function parse(event) {
  try {
    return JSON.parse(event.data);
  } catch {
    return null;
  }
}

/**
 * Opens (or reopens) the event stream. Each time it opens, the state is fetched again:
 * what changed before the stream was listening (at the first connect, after a persona
 * switch or a lost connection) is not missed.
 */
function connect() {
  clearTimeout(retryTimer);
  source?.close();
  hadError = false;
  setStatus('connecting');
  const es = new EventSource('/api/console/events');
  source = es;
  es.addEventListener('open', () => {
    if (source !== es) return;
    setStatus('live');
    const fresh = !hadError;
    hadError = false;
    // `data-live-as` says whose updates the page now receives (tests wait for it).
    loadState(fresh ? { fresh: true } : undefined).then((loaded) => {
      if (loaded && source === es) document.body.dataset.liveAs = acting();
    });
  });
  es.addEventListener('error', () => {
    if (source !== es) return;
    hadError = true;
    setStatus('reconnecting');
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (the server answered with an error). A session that ended is
      // said so, once; anything else is tried again.
      retryTimer = setTimeout(async () => {
        if (source !== es) return;
        const who = await request('/api/whoami', { quiet: true });
        if (who.status === 401) {
          setStatus('offline');
          showAlert(
            'Your session has ended. Open the start URL again (`steward start` prints it) to sign in.',
          );
          return;
        }
        connect();
        hadError = true;
      }, 3000);
    }
  });
  es.addEventListener('message', (event) => {
    const message = parse(event);
    if (message) upsert(message);
  });
  es.addEventListener('home', (event) => {
    const data = parse(event);
    state.home = data?.view ?? null;
    if (state.current === HOME) renderHome();
  });
  es.addEventListener('reset', () => {
    loadState({ fresh: true });
  });
}

// ---------------------------------------------------------------- state

/**
 * Fetches the whole state and redraws. `fresh` when the acting person changed: nothing
 * counts as unread then. Otherwise messages not seen before, in channels not shown, do.
 */
async function loadState({ fresh = false } = {}) {
  const result = await request('/api/console/state');
  if (!result.ok || !result.body) return false;
  const data = result.body;
  const before = state.messages;
  state.me = data.me ?? null;
  state.personas = Array.isArray(data.personas) ? data.personas : null;
  state.channels = Array.isArray(data.channels) ? data.channels : [];
  state.home = data.home ?? null;
  state.messages = new Map();
  for (const m of Array.isArray(data.messages) ? data.messages : []) {
    if (!m || typeof m.id !== 'string') continue;
    // An update that arrived over the stream while the state was being fetched is newer.
    const streamed = before.get(m.id);
    state.messages.set(m.id, streamed && streamed.updatedAt > m.updatedAt ? streamed : m);
  }
  if (state.loaded && !fresh) {
    for (const m of state.messages.values()) {
      if (before.has(m.id) || m.thread || m.channel === state.current || m.author === acting()) continue;
      state.unread.set(m.channel, (state.unread.get(m.channel) ?? 0) + 1);
    }
  }
  for (const id of state.unread.keys()) {
    if (!state.channels.some((c) => c.id === id)) state.unread.delete(id);
  }
  state.loaded = true;
  if (state.current !== HOME && !state.channels.some((c) => c.id === state.current)) {
    state.current = state.channels[0]?.id ?? HOME;
  }
  renderIdentity();
  renderNav();
  renderMain();
  if (state.thread && state.messages.has(state.thread)) renderThread();
  else if (state.thread) closeThread(false);
  return true;
}

// ---------------------------------------------------------------- composer

async function send(textarea, which, thread) {
  const text = textarea.value;
  if (!text.trim() || textarea.dataset.sending) return;
  const channel = thread ? state.messages.get(thread)?.channel : state.current;
  if (!channel || channel === HOME) return;
  textarea.dataset.sending = '1';
  // The same id for the same text after a failure: if the first try did arrive, the server
  // applies it once.
  const pending = state.unsent[which];
  const send = pending && pending.text === text ? pending.id : crypto.randomUUID();
  const body = thread ? { channel, text, thread, send } : { channel, text, send };
  const result = await request('/api/console/messages', { body });
  delete textarea.dataset.sending;
  state.unsent[which] = result.ok ? null : { text, id: send };
  if (result.ok) {
    state.lastSent[which] = text;
    if (textarea.value === text) textarea.value = '';
  }
  textarea.focus();
}

function wireComposer(form, textarea, which, threadOf) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(textarea, which, threadOf());
  });
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey) {
      event.preventDefault();
      send(textarea, which, threadOf());
    } else if (event.key === 'ArrowUp' && textarea.value === '' && state.lastSent[which]) {
      event.preventDefault();
      textarea.value = state.lastSent[which];
      textarea.setSelectionRange(textarea.value.length, textarea.value.length);
    }
  });
}

// ---------------------------------------------------------------- actions, confirm, modal

/** Asks a button's `confirm` question in a <dialog>; resolves true only on confirm. */
function askConfirm(confirm) {
  return new Promise((resolve) => {
    ui.confirmTitle.replaceChildren(
      renderText({ type: 'plain_text', text: plainOf(confirm.title) || 'Are you sure?' }),
    );
    ui.confirmText.replaceChildren(renderText(confirm.text ?? '', { userLabel }));
    ui.confirmOk.textContent = plainOf(confirm.confirm) || 'Confirm';
    ui.confirmDeny.textContent = plainOf(confirm.deny) || 'Cancel';
    ui.confirmOk.className = `bk-btn bk-btn--${confirm.style === 'danger' ? 'danger' : 'primary'}`;
    ui.confirm.returnValue = '';
    const returnFocus = document.activeElement;
    ui.confirm.addEventListener(
      'close',
      () => {
        if (returnFocus?.isConnected) returnFocus.focus();
        resolve(ui.confirm.returnValue === 'confirm');
      },
      { once: true },
    );
    ui.confirm.showModal();
    ui.confirmDeny.focus();
  });
}

/** A button click: confirmed first when it asks, then POSTed once with its siblings disabled. */
async function act(click, where) {
  if (click.confirm && !(await askConfirm(click.confirm))) return;
  const controls = [...click.group.querySelectorAll('button')];
  if (click.group instanceof HTMLButtonElement) controls.push(click.group);
  if (controls.some((b) => b.dataset.busy)) return;
  for (const b of controls) {
    b.disabled = true;
    b.dataset.busy = '1';
  }
  click.button.setAttribute('aria-busy', 'true');
  const body = {
    action_id: click.actionId,
    value: click.value,
    ...(click.blockId ? { block_id: click.blockId } : {}),
    ...where,
    click: newId(),
  };
  const result = await request('/api/console/actions', { body });
  for (const b of controls) {
    b.disabled = false;
    delete b.dataset.busy;
  }
  click.button.removeAttribute('aria-busy');
  if (result.ok && result.body?.modal) openModal(result.body.modal);
}

let modalReturnFocus = null;

function openModal(view) {
  const dialog = ui.modal;
  const wasOpen = dialog.open;
  if (!wasOpen) modalReturnFocus = document.activeElement;
  const form = renderView(view, {
    userLabel,
    onAction: (click) => act(click, { view: { type: 'modal', callback_id: view.callback_id ?? '' } }),
  });
  dialog.replaceChildren(form);
  dialog.dataset.callbackId = view.callback_id ?? '';
  form.querySelector('[data-modal-close]')?.addEventListener('click', () => dialog.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitModal(view, form);
  });
  if (!wasOpen) {
    dialog.addEventListener(
      'close',
      () => {
        dialog.replaceChildren();
        if (modalReturnFocus?.isConnected) modalReturnFocus.focus();
        modalReturnFocus = null;
      },
      { once: true },
    );
    dialog.showModal();
  }
  const first = form.querySelector('[autofocus], .bk-field-input') ?? form.querySelector('button');
  first?.focus();
}

async function submitModal(view, form) {
  const submit = form.querySelector('[data-modal-submit]');
  if (submit?.disabled) return;
  const alert = form.querySelector('[data-modal-alert]');
  alert.replaceChildren();
  if (submit) submit.disabled = true;
  const body = {
    callback_id: view.callback_id ?? '',
    private_metadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
    values: readViewValues(form),
    submit: newId(),
  };
  const result = await request('/api/console/views', { body, quiet: true });
  if (submit) submit.disabled = false;
  if (result.ok) {
    if (result.body?.modal) openModal(result.body.modal);
    else ui.modal.close();
    return;
  }
  const errors = result.body?.errors && typeof result.body.errors === 'object' ? result.body.errors : {};
  const { first, unplaced } = showViewErrors(form, errors);
  const message = [result.body?.error, ...unplaced].filter(Boolean).join(' ');
  if (message) {
    const p = document.createElement('p');
    p.textContent = message;
    alert.append(p);
    showAlert(message);
  }
  (first ?? form.querySelector('.bk-field-input') ?? submit)?.focus();
}

// ---------------------------------------------------------------- start

async function start() {
  stickToBottom(ui.log);
  stickToBottom(ui.threadLog);
  wireComposer(ui.composerForm, ui.composer, 'main', () => undefined);
  wireComposer(ui.threadForm, ui.threadComposer, 'thread', () => state.thread ?? undefined);
  ui.threadClose.addEventListener('click', () => closeThread());
  ui.thread.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeThread();
  });

  const who = await request('/api/whoami');
  if (who.ok && who.body) {
    state.csrf = typeof who.body.csrf === 'string' ? who.body.csrf : '';
    state.user = who.body.user ?? '';
  }
  if (!state.csrf) showAlert('No CSRF token from /api/whoami: sending messages and clicks will be refused.');
  state.current = null;
  await loadState({ fresh: true });
  connect();
}

start();
