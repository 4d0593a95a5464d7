// api.js: the REST client. Finds the API from /config.json, adds the bearer token, turns
// error answers into ApiError (with the 422 details), and sends any 401 back to login.
// Holds the contract's vocabulary (GET /api/meta) so that no view spells a status list,
// and the session, shared by every tab of the browser (see "The session" below).

const KEY_TOKEN = 'ticketd.token';
const KEY_USER = 'ticketd.user';
const KEY_FLASH = 'ticketd.flash';

let config = null;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = Array.isArray(details) ? details : [];
  }
  // { field: message } from the contract's details.
  fieldErrors() {
    const out = {};
    for (const d of this.details) if (d && d.field && !out[d.field]) out[d.field] = d.message;
    return out;
  }
}

export async function loadConfig() {
  if (config) return config;
  const res = await fetch('config.json', { cache: 'no-store' });
  if (!res.ok) throw new Error('cannot load config.json');
  config = await res.json();
  return config;
}

// Ticket statuses and priorities, job statuses, item statuses and types, a ticket list's
// sorts and deletion filters, the defaults, field limits: what GET /api/meta answers
// (proto/vocab.h on the server), filled once by loadMeta at start, before any view.
export const vocab = {};

export async function loadMeta() {
  if (vocab.limits) return vocab;
  Object.assign(vocab, await api('GET', '/api/meta'));
  return vocab;
}

// The session. Its token is in sessionStorage, and tabs hand it to each other over a
// BroadcastChannel: a new tab (a link, a bookmark) asks the open ones, a sign-in, a logout
// or an expiry in one tab reaches them all. Chosen over localStorage: a script injected
// into the page could read either (or simply call the API), so neither protects against
// XSS; but localStorage writes the token to disk, where it outlives the browser window
// and stays for the next person at a shared computer, and tabs would need a storage event
// to hear of a logout anyway. Here the session lives as long as one tab of ticketd is
// open, and is never on disk; a bookmark opened with no tab open asks to sign in.
const channel = 'BroadcastChannel' in window ? new BroadcastChannel('ticketd.session') : null;
const ASK_MS = 300;   // how long a new tab waits for an open one to answer

export const session = {
  get token() { return sessionStorage.getItem(KEY_TOKEN); },
  get user() {
    try { return JSON.parse(sessionStorage.getItem(KEY_USER) || 'null'); } catch { return null; }
  },
  get isAdmin() { return this.user?.role === 'admin'; },
  // quiet: heard from another tab, which has told the rest already.
  set(token, user, quiet = false) {
    sessionStorage.setItem(KEY_TOKEN, token);
    sessionStorage.setItem(KEY_USER, JSON.stringify(user));
    if (!quiet) channel?.postMessage({ type: 'login', token, user });
  },
  clear() {
    sessionStorage.removeItem(KEY_TOKEN);
    sessionStorage.removeItem(KEY_USER);
  },
  // A one-shot message for the login page (why you landed there).
  flash(msg) {
    if (msg === undefined) {
      const m = sessionStorage.getItem(KEY_FLASH);
      sessionStorage.removeItem(KEY_FLASH);
      return m;
    }
    sessionStorage.setItem(KEY_FLASH, msg);
  },
};

// A tab without a session asks the others for theirs; resolves once one answered or
// ASK_MS passed (then there is none to share).
export function adoptSession() {
  if (session.token || !channel) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ASK_MS);
    function done() {
      clearTimeout(timer);
      channel.removeEventListener('message', onShare);
      resolve();
    }
    function onShare(ev) {
      if (ev.data?.type !== 'share' || session.token) return;
      session.set(ev.data.token, ev.data.user, true);
      done();
    }
    channel.addEventListener('message', onShare);
    channel.postMessage({ type: 'ask' });
  });
}

const listeners = new Set();
const startListeners = new Set();
// fn() whenever the session ends here (logout, 401, or either in another tab). Returns
// the unsubscribe.
export function onSessionEnd(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
// fn() when another tab signs in and this one takes its session.
export function onSessionStart(fn) { startListeners.add(fn); }

// The page to come back to after signing in: where the user was, or asked to go.
export function loginHash(next = location.hash.slice(1)) {
  return next && next !== '/' && !next.startsWith('/login') ? `#/login?next=${encodeURIComponent(next)}` : '#/login';
}

// everywhere: a logout, told to every tab; an expiry is told along with the token that
// expired (a tab that has signed in again since keeps its new one).
export function endSession(message, { everywhere = false, local = false } = {}) {
  const token = session.token;
  session.clear();
  if (message) session.flash(message);
  if (!local) channel?.postMessage(everywhere ? { type: 'logout' } : { type: 'expired', token });
  for (const fn of listeners) fn();
  if (!location.hash.startsWith('#/login')) location.hash = loginHash();
}

channel?.addEventListener('message', (ev) => {
  const m = ev.data || {};
  if (m.type === 'ask' && session.token) {
    channel.postMessage({ type: 'share', token: session.token, user: session.user });
  } else if (m.type === 'login' && m.token !== session.token) {
    const was = session.user?.id;
    if (session.token && was !== m.user?.id) endSession(null, { local: true });
    session.set(m.token, m.user, true);
    for (const fn of startListeners) fn();
  } else if (m.type === 'logout' && session.token) {
    endSession('You signed out in another tab.', { local: true });
  } else if (m.type === 'expired' && m.token && m.token === session.token) {
    endSession('Your session has expired. Please sign in again.', { local: true });
  }
});

// Can the API be reached? 'up': it answers; 'trouble': it answers that it cannot serve
// (502-504, or a health check that is not ok); 'down': no answer at all. The live badge
// shows it beside the WebSocket's state: a socket to the hub can be open while the API is
// gone, and must not read as "Live" then.
let reach = 'up';
const reachListeners = new Set();
const PROBE_UP_MS = 10000;     // a health check this often while it answers
const PROBE_DOWN_MS = 3000;    // and this often while it does not, to say soon it is back
const PROBE_TIMEOUT_MS = 5000;

export function onReach(fn) {
  reachListeners.add(fn);
  fn(reach);
  return () => reachListeners.delete(fn);
}

function setReach(r) {
  if (r === reach) return;
  reach = r;
  for (const fn of reachListeners) fn(r);
}

// Says whose side is out: a browser that knows it is offline, or else the server (a
// request refused or unanswered while the browser is online is the server's doing).
export function unreachableText() {
  return navigator.onLine === false ? 'This browser is offline: check the network connection.'
    : 'The ticketd server cannot be reached: it may be down or restarting. Try again in a moment.';
}

async function probe() {
  const { apiBase } = await loadConfig();
  try {
    const res = await fetch(`${apiBase}/api/health`, { cache: 'no-store', signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    setReach(res.ok ? 'up' : 'trouble');
  } catch {
    setReach('down');
  }
}

// Checks the API's health while signed in, even when nothing else calls it (a page left
// open). Returns the stop.
export function watchReach() {
  let timer = null;
  let stopped = false;
  const next = () => {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(() => probe().then(next), reach === 'up' ? PROBE_UP_MS : PROBE_DOWN_MS);
  };
  const off = onReach(next);
  window.addEventListener('online', probe);
  return () => {
    stopped = true;
    clearTimeout(timer);
    off();
    window.removeEventListener('online', probe);
  };
}

// One API call. body: an object sent as JSON. Returns the parsed JSON (null for 204).
export async function api(method, path, body, { headers = {}, signal } = {}) {
  const { apiBase } = await loadConfig();
  const h = { Accept: 'application/json', ...headers };
  const token = session.token;
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(apiBase + path, { method, headers: h, body: payload, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    setReach('down');
    throw new ApiError(0, 'network_error', unreachableText());
  }
  setReach(res.status >= 502 && res.status <= 504 ? 'trouble' : 'up');
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (res.ok) return data;
  const err = data?.error || {};
  if (res.status === 401 && path !== '/api/auth/login') {
    endSession('Your session has expired. Please sign in again.');
  }
  throw new ApiError(res.status, err.code || `http_${res.status}`,
    err.message || `The server answered ${res.status}.`, err.details);
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v != null) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
