// api.js: the REST client. Finds the API from /config.json, adds the bearer token, turns
// error answers into ApiError (with the 422 details), and sends any 401 back to login.
// Holds the contract's vocabulary (GET /api/meta) so that no view spells a status list.

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

export const session = {
  get token() { return sessionStorage.getItem(KEY_TOKEN); },
  get user() {
    try { return JSON.parse(sessionStorage.getItem(KEY_USER) || 'null'); } catch { return null; }
  },
  get isAdmin() { return this.user?.role === 'admin'; },
  set(token, user) {
    sessionStorage.setItem(KEY_TOKEN, token);
    sessionStorage.setItem(KEY_USER, JSON.stringify(user));
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

const listeners = new Set();
// Called with no argument whenever the session ends (logout or 401).
export function onSessionEnd(fn) { listeners.add(fn); }

export function endSession(message) {
  session.clear();
  if (message) session.flash(message);
  for (const fn of listeners) fn();
  if (location.hash !== '#/login') location.hash = '#/login';
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
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check your connection.');
  }
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
