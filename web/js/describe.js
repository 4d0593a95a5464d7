// describe.js: jobs and filters in words, the same everywhere: a confirm says what it
// will touch in the words the job's page later uses to say what it covered.

import { h, num, shortId } from './ui.js';
import { nameOf, me } from './users.js';
import { isTerminal } from './live.js';

export function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }

const TITLES = { 'bulk-delete': 'Bulk delete', 'bulk-restore': 'Bulk restore', 'bulk-update': 'Bulk edit' };
const DONE = { 'bulk-delete': 'deleted', 'bulk-restore': 'restored', 'bulk-update': 'updated' };

export const jobTitle = (type) => TITLES[type] || cap(String(type).replace(/-/g, ' '));
export const jobVerb = (type) => DONE[type] || 'done';

// The job's total: "counting…" while a filter job's set is being taken, "—" when it
// ended before (a filter that changed, a cancel).
export function totalText(job) {
  if (job.total != null) return num(job.total);
  return isTerminal(job) ? '—' : 'counting…';
}

function assigneeWords(id) {
  if (id === 'none') return 'unassigned';
  return `assigned to ${id === me() ? 'me' : nameOf(id)}`;
}

// The filter's conditions: 'with status Open and priority Urgent, assigned to Agent,
// from jo@example.com, matching "billing"' ('' for no condition).
export function filterWords(f = {}) {
  const parts = [];
  const attrs = [];
  if (f.status) attrs.push(`status ${cap(f.status)}`);
  if (f.priority) attrs.push(`priority ${cap(f.priority)}`);
  if (attrs.length) parts.push(`with ${attrs.join(' and ')}`);
  if (f.assigneeId) parts.push(assigneeWords(f.assigneeId));
  if (f.requesterEmail) parts.push(`from ${f.requesterEmail}`);
  if (f.q) parts.push(`matching "${f.q}"`);
  return parts.join(' ');
}

// "all 1,234 tickets with status Open matching "billing"" (deleted: "deleted tickets").
export function matchingWords(n, filter, { deleted = false, about = false } = {}) {
  const noun = `${deleted ? 'deleted ' : ''}ticket${n === 1 ? '' : 's'}`;
  const cond = filterWords(filter);
  return `${about ? `about ${num(n)}` : n === 1 ? 'the 1' : `all ${num(n)}`} ${noun}${cond ? ` ${cond}` : ''}`;
}

// A bulk edit's set: "status Pending, assignee Agent" (assignee null: "unassigned").
export function setWords(set = {}) {
  const parts = [];
  if (set.status) parts.push(`status ${cap(set.status)}`);
  if (set.priority) parts.push(`priority ${cap(set.priority)}`);
  if ('assigneeId' in set) parts.push(set.assigneeId ? `assignee ${nameOf(set.assigneeId)}` : 'unassigned');
  return parts.join(', ');
}

// What a job covers, as nodes: the filter in words, "N tickets", or "undo of job X".
export function coversNodes(job) {
  let what;
  if (job.sourceJobId) {
    what = ['undo of job ', h('a.mono', { href: `#/jobs/${job.sourceJobId}` }, shortId(job.sourceJobId))];
  } else if (job.filter) {
    const deleted = job.type === 'bulk-restore';
    const cond = filterWords(job.filter);
    what = [`${deleted ? 'deleted tickets' : 'tickets'} ${cond || (deleted ? '(all of them)' : '(all live tickets)')}`];
    if (job.expectedTotal != null) what.push(h('span.muted', ` (${num(job.expectedTotal)} when started)`));
  } else {
    what = [job.total == null ? 'a list of tickets' : `${num(job.total)} ticket${job.total === 1 ? '' : 's'}`];
  }
  if (job.set) what.push(`: set ${setWords(job.set)}`);
  return what;
}
