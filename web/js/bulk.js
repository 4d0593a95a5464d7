// bulk.js: starting bulk jobs (delete, restore, edit) over a selection or over every
// ticket matching a filter, with the confirm and the edit dialog that say in words what
// will be touched; the toast when one's own job ends, with Undo after a bulk delete.
//
// A scope is what the user chose: { ids } (tickets picked one by one) or { filter, total }
// (every ticket matching, as many as the list showed; the job refuses if more match
// by the time it runs), with estimate: true when that total was the API's estimate (then
// the job takes whatever matches when it starts: there is no count to hold it to).
// deleted: true when the scope is over deleted tickets.

import { api, vocab, ApiError } from './api.js';
import { h, num, shortId, toast, confirmDialog, errorText, select } from './ui.js';
import * as live from './live.js';
import { assigneePicker } from './users.js';
import { cap, jobTitle, jobVerb, matchingWords, totalText } from './describe.js';

const started = new Set();   // fn(job, known) for every job this tab starts

export function onStarted(fn) {
  started.add(fn);
  return () => started.delete(fn);
}

// POST /api/jobs. key: the Idempotency-Key (one per user action: a retried request or a
// second click on the same Undo starts no second job).
export async function startJob(type, payload, key = crypto.randomUUID()) {
  const job = await api('POST', '/api/jobs', { type, payload }, { headers: { 'Idempotency-Key': key } });
  const known = live.begin(job);
  for (const fn of started) fn(job, known);
  return job;
}

function payloadOf(scope) {
  if (scope.ids) return { ticketIds: scope.ids };
  return scope.estimate ? { filter: scope.filter } : { filter: scope.filter, expectedTotal: scope.total };
}

export function scopeCount(scope) { return scope.ids ? scope.ids.length : scope.total; }

// "3 tickets" for a selection, 'all 1,234 tickets with status Open' for a filter.
export function scopeWords(scope) {
  const n = scopeCount(scope);
  if (scope.ids) return `${num(n)} ${scope.deleted ? 'deleted ' : ''}ticket${n === 1 ? '' : 's'}`;
  return matchingWords(n, scope.filter, { deleted: scope.deleted, about: scope.estimate });
}

// startJob, with a failure said in a toast (what: the action's name): resolves to null.
async function tryStart(what, type, payload, key) {
  try {
    return await startJob(type, payload, key);
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) toast(`${what} failed: ${errorText(e)}`, 'error');
    return null;
  }
}

// Asks, then starts a bulk delete of scope. Resolves to the job, or null.
export async function bulkDelete(scope) {
  const n = scopeCount(scope);
  const byFilter = !scope.ids;
  const ok = await confirmDialog({
    title: `Delete ${scopeWords(scope)}?`,
    message: scope.estimate
      ? 'The job starts at once and deletes in the background every ticket that matches when it starts. When it ends, Undo restores them.'
      : byFilter
      ? `The job starts at once and deletes them in the background. If more than ${num(n)} match when it starts, it deletes none. When it ends, Undo restores them.`
      : `${num(n)} ticket${n === 1 ? '' : 's'} will be deleted in the background. When it ends, Undo restores them.`,
    confirm: scope.estimate ? 'Delete all' : byFilter && n !== 1 ? `Delete all ${num(n)}` : `Delete ${num(n)}`,
    danger: true });
  return ok ? tryStart('Bulk delete', 'bulk-delete', payloadOf(scope)) : null;
}

// Starts a bulk restore of scope (deleted tickets); every matching one asks first.
export async function bulkRestore(scope) {
  if (!scope.ids) {
    const ok = await confirmDialog({ title: `Restore ${scopeWords(scope)}?`,
      message: 'The job restores them in the background.',
      confirm: scope.estimate ? 'Restore all' : `Restore ${num(scope.total)}` });
    if (!ok) return null;
  }
  return tryStart('Bulk restore', 'bulk-restore', payloadOf(scope));
}

// Restores what bulk-delete job jobId deleted. One key per job: an Undo pressed in the
// toast and again on the job's page (or in another tab) is one restore.
export async function undo(jobId) {
  const job = await tryStart('Undo', 'bulk-restore', { jobId }, `undo-${jobId}`);
  if (job) {
    toast(['Restoring what job ', h('a.mono', { href: `#/jobs/${jobId}` }, shortId(jobId)), ' deleted: ',
      h('a', { href: `#/jobs/${job.id}` }, 'follow it')], 'info');
  }
  return job;
}

// The bulk edit dialog: status, priority and assignee, each "keep" until chosen.
// Resolves to the started job, or null when closed.
export function bulkEditDialog(scope) {
  return new Promise((resolve) => {
    let result = null;
    const keep = [['', 'Keep as is']];
    const status = select('be-status', [...keep, ...vocab.ticketStatuses.map((s) => [s, cap(s)])]);
    const priority = select('be-priority', [...keep, ...vocab.ticketPriorities.map((s) => [s, cap(s)])]);
    const assignee = assigneePicker({ id: 'be-assignee', value: undefined, keepLabel: 'Keep as is' });
    const error = h('p.form-error', { role: 'alert', hidden: true });
    const apply = h('button.btn.primary', { type: 'submit' }, 'Apply');
    const n = scopeCount(scope);
    const form = h('form', { novalidate: true },
      h('div.dialog-head', h('h2#bulk-edit-title', `Edit ${scopeWords(scope)}`),
        h('button.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: () => dlg.close() }, '×')),
      scope.estimate ? h('p.hint', 'The job changes every ticket that matches when it starts.')
        : !scope.ids ? h('p.hint', `If more than ${num(n)} match when the job starts, it changes none.`) : null,
      error,
      h('div.field-row',
        h('div.field', h('label', { for: 'be-status' }, 'Status'), status),
        h('div.field', h('label', { for: 'be-priority' }, 'Priority'), priority)),
      h('div.field', h('label', { for: 'be-assignee' }, 'Assignee'), assignee),
      h('div.dialog-actions', h('button.btn', { type: 'button', onclick: () => dlg.close() }, 'Cancel'), apply));
    const dlg = h('dialog.dialog', { 'aria-labelledby': 'bulk-edit-title' }, form);
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const set = {};
      if (status.value) set.status = status.value;
      if (priority.value) set.priority = priority.value;
      if (assignee.value !== undefined) set.assigneeId = assignee.value;
      if (!Object.keys(set).length) {
        error.textContent = 'Choose at least one change.';
        error.hidden = false;
        return;
      }
      apply.disabled = true;
      try {
        result = await startJob('bulk-update', { ...payloadOf(scope), set });
        dlg.close();
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) { dlg.close(); return; }
        error.textContent = errorText(e);
        error.hidden = false;
      } finally {
        apply.disabled = false;
      }
    });
    document.body.append(dlg);
    dlg.showModal();
    status.focus();
  });
}

// Says when one's own job ends; a completed bulk delete offers Undo (admins: the only
// ones who may delete, and restore).
live.onFinished((job) => {
  const what = `${jobTitle(job.type)} ${shortId(job.id)}`;
  // A canceled delete deleted what it reached: that too is undone in one go.
  const undoable = job.type === 'bulk-delete' && job.succeeded > 0 && job.status !== 'failed';
  const action = undoable ? { action: { label: 'Undo', onclick: () => undo(job.id) } } : undefined;
  if (job.status === 'completed') {
    const bad = job.failed ? `, ${num(job.failed)} failed` : '';
    toast(`${what} completed: ${num(job.succeeded)} ${jobVerb(job.type)}${bad}.`, job.failed ? 'warning' : 'success', action);
  } else if (job.status === 'canceled') {
    toast(`${what} canceled after ${num(job.processed)} of ${totalText(job)}.`, 'warning', action);
  } else {
    toast(`${what} failed${job.error ? `: ${job.error.message}` : '.'}`, 'error');
  }
});
