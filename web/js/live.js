// live.js: the jobs the screen shows, kept current. WebSocket events update them; while
// the socket is down, the jobs on screen are polled instead, and after a reconnect they
// are fetched once, so progress never freezes and never goes backwards.

import { api, loadConfig, session } from './api.js';
import { LiveSocket } from './ws.js';
import { toast, num, shortId } from './ui.js';

const POLL_MS = 3000;
export const TERMINAL = new Set(['completed', 'failed', 'canceled']);

const jobs = new Map();          // id -> latest job
const subscribers = new Set();   // fn(job)
const stateListeners = new Set();
const onScreen = new Map();      // owner -> Set of job ids it shows
const reopened = new Set();      // jobs resumed from here, polled until they end (see poll)
let socket = null;
let pollTimer = null;
let state = 'down';
let wasDown = false;

export const isTerminal = (job) => TERMINAL.has(job?.status);

export function getJob(id) { return jobs.get(id); }

// Newer wins; a terminal job never goes back to running, counters never go backwards;
// except with reopen: the server has just answered that the job runs again (a resume).
export function update(job, reopen = false) {
  if (!job?.id) return;
  const prev = jobs.get(job.id);
  if (prev && !reopen) {
    if (isTerminal(prev) && !isTerminal(job)) return;
    if (!isTerminal(job) && (job.processed ?? 0) < (prev.processed ?? 0)) return;
  }
  const { items, itemsTotal, ...bare } = job;
  jobs.set(job.id, bare);
  if (isTerminal(bare)) reopened.delete(bare.id);
  else if (reopen) reopened.add(bare.id);
  if (prev && !isTerminal(prev) && isTerminal(bare) && bare.createdBy === session.user?.id) announce(bare);
  for (const fn of subscribers) fn(bare, prev);
}

function announce(job) {
  const what = `Bulk delete ${shortId(job.id)}`;
  if (job.status === 'completed') {
    const failed = job.failed ? `, ${num(job.failed)} failed` : '';
    toast(`${what} completed: ${num(job.succeeded)} deleted${failed}.`, job.failed ? 'warning' : 'success');
  } else if (job.status === 'canceled') {
    toast(`${what} canceled after ${num(job.processed)} of ${num(job.total)}.`, 'warning');
  } else {
    toast(`${what} failed${job.error ? `: ${job.error.message}` : '.'}`, 'error');
  }
}

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
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

// Fetches jobs once: by default the running jobs on screen (after a reconnect, or as a poll).
export async function refresh(ids = watchedIds(), reopen = false) {
  await Promise.all(ids.map(async (id) => {
    try {
      update(await api('GET', `/api/jobs/${id}?itemsLimit=1`), reopen);
    } catch { /* the next poll or event will do */ }
  }));
}

function poll() {
  clearTimeout(pollTimer);
  pollTimer = setTimeout(async () => {
    // With the socket up, the jobs resumed from here still: the hub drops what follows a
    // job's final event until it forgets the job, so their events may not come.
    if (state !== 'open' && session.token) await refresh();
    else if (reopened.size && session.token) await refresh([...reopened]);
    if (socket) poll();
  }, POLL_MS);
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
  onScreen.clear();
  reopened.clear();
  wasDown = false;
}
