// live.js: the jobs the screen shows, kept current. WebSocket events update them; while
// the socket is down, the jobs on screen are polled instead, and after a reconnect they
// are fetched once, so progress never freezes and never goes backwards. Events may be
// lost even while the socket is up, so a running job on screen that had no news for
// SILENT_MS is read again over REST. A job's seq orders its states: only a newer one wins.

import { api, loadConfig, session, ApiError } from './api.js';
import { LiveSocket } from './ws.js';

const POLL_MS = 3000;       // the jobs on screen, while the socket is down
const SILENT_MS = 5000;     // a running job on screen without news this long is re-read
const TICK_MS = 1000;
export const TERMINAL = new Set(['completed', 'failed', 'canceled']);

const jobs = new Map();          // id -> latest job
const subscribers = new Set();   // fn(job)
const goneListeners = new Set(); // fn(id)
const stateListeners = new Set();
const finishListeners = new Set(); // fn(job)
const told = new Set();            // ids whose end finishListeners were told
const onScreen = new Map();      // owner -> Set of job ids it shows
const heardAt = new Map();       // id -> when its state last came (event or REST), or was asked for
let socket = null;
let pollTimer = null;
let polledAt = 0;
let state = 'down';
let wasDown = false;

export const isTerminal = (job) => TERMINAL.has(job?.status);

export function getJob(id) { return jobs.get(id); }

// Is job a newer state than prev? By seq when both carry one (a job resumed after it
// failed runs again); else a terminal job never goes back to running and counters never
// go backwards.
function newer(job, prev) {
  if (Number.isInteger(job.seq) && Number.isInteger(prev.seq)) return job.seq > prev.seq;
  if (isTerminal(prev) && !isTerminal(job)) return false;
  return isTerminal(job) || (job.processed ?? 0) >= (prev.processed ?? 0);
}

// reopen: the server has just answered that the job runs again (a resume): take it.
export function update(job, reopen = false) {
  if (!job?.id) return;
  heardAt.set(job.id, Date.now());
  const prev = jobs.get(job.id);
  if (prev && !reopen && !newer(job, prev)) return;
  const { items, itemsTotal, ...bare } = job;
  jobs.set(job.id, bare);
  if (prev && !isTerminal(prev) && isTerminal(bare)) tellEnd(bare);
  for (const fn of subscribers) fn(bare, prev);
}

function tellEnd(job) {
  if (job.createdBy !== session.user?.id || told.has(job.id)) return;
  told.add(job.id);
  for (const fn of finishListeners) fn(job);
}

// A job this tab has just started: the POST's answer. Its events may beat that answer
// (a small job can end first): an end heard before the job was known to be ours is told
// now. Returns the job as known, which may be final already.
export function begin(job) {
  update(job);
  const known = jobs.get(job.id);
  if (isTerminal(known) && !isTerminal(job)) tellEnd(known);
  return known;
}

// fn(job) when a job this user started ends (bulk.js says so in a toast).
export function onFinished(fn) {
  finishListeners.add(fn);
  return () => finishListeners.delete(fn);
}

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

// fn(id) when a job on screen turns out not to exist for this user (a 404 when read
// again): an event named it, but the API does not know it, or it is not ours.
export function onGone(fn) {
  goneListeners.add(fn);
  return () => goneListeners.delete(fn);
}

// Without this, such a job would stay "running" on screen and be read again every
// SILENT_MS for as long as the page lives.
function forget(id) {
  jobs.delete(id);
  heardAt.delete(id);
  for (const set of onScreen.values()) set.delete(id);
  for (const fn of goneListeners) fn(id);
}

// A view says which jobs it shows (replacing what it said before); [] when it leaves.
export function show(owner, ids) {
  if (ids.length) onScreen.set(owner, new Set(ids));
  else onScreen.delete(owner);
}

export function onState(fn) {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
  if (s === 'open') {
    if (wasDown) refresh();
    wasDown = false;
  } else if (s === 'down') {
    wasDown = true;
  }
}

function watchedIds() {
  const ids = new Set();
  for (const set of onScreen.values()) for (const id of set) ids.add(id);
  return [...ids].filter((id) => !isTerminal(jobs.get(id)));
}

// Fetches running jobs on screen once (all of them after a reconnect or as a poll, or
// those given).
export async function refresh(ids = watchedIds(), reopen = false) {
  await Promise.all(ids.map(async (id) => {
    heardAt.set(id, Date.now());
    try {
      update(await api('GET', `/api/jobs/${id}?itemsLimit=1`), reopen);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) forget(id);
      // anything else: the next poll or event will do
    }
  }));
}

// Every second: with the socket down, every POLL_MS the running jobs on screen; with it
// up, those that had no news for SILENT_MS.
function poll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    const now = Date.now();
    if (!session.token) {
      // signed out: nothing to read
    } else if (state !== 'open') {
      if (now - polledAt >= POLL_MS) {
        polledAt = now;
        await refresh();
      }
    } else {
      const silent = watchedIds().filter((id) => now - (heardAt.get(id) ?? 0) >= SILENT_MS);
      if (silent.length) await refresh(silent);
    }
    if (socket) poll();
  }, TICK_MS);
}

export async function start() {
  stop();
  const token = session.token;
  if (!token) return;
  const { wsUrl } = await loadConfig();
  if (socket || session.token !== token) return;
  socket = new LiveSocket(wsUrl, token, {
    onEvent: (msg) => { if (msg.event.startsWith('jobs:')) update(msg.data); },
    onState: setState,
  });
  poll();
}

export function stop() {
  clearTimeout(pollTimer);
  if (socket) socket.close();
  socket = null;
  jobs.clear();
  told.clear();
  heardAt.clear();
  onScreen.clear();
  wasDown = false;
}
