// ticket.js: one ticket: the create/edit dialog (with the API's field errors by each
// field, an assignee picker and the ticket's history) and the ticket's page
// (#/tickets/<id>: its fields, Edit, and its history; for admins, Restore when deleted).

import { api, session, vocab, ApiError, onSessionEnd } from './api.js';
import { h, mount, pill, when, shortId, toast, errorText, confirmDialog } from './ui.js';
import * as users from './users.js';
import { historyList } from './history.js';
import { compare, conflictPanel } from './conflict.js';
import { ticketForm } from './ticketform.js';
import { ticketsHash } from './tickets.js';

const KEY_DRAFT = 'ticketd.draft';

// The create (t null) or edit dialog; onSaved() after a save. values: what the form holds
// at first instead of t's (a draft kept over a sign-in).
export function ticketDialog(t, onSaved, { values: initial } = {}) {
  const editing = !!t;
  const owner = session.user?.id;
  // The version the form saves against (If-Match): the one opened, then after a conflict
  // the one saved meanwhile, so that a save is always an informed overwrite.
  let base = t;
  const f = ticketForm(t);
  const general = h('p.form-error', { role: 'alert', hidden: true });
  const conflictBox = h('div');
  const save = h('button.btn.primary', { type: 'submit' }, editing ? 'Save changes' : 'Create ticket');
  const history = editing ? h('details.history-details', h('summary', 'History')) : null;
  history?.addEventListener('toggle', () => {
    if (history.open && history.children.length === 1) history.append(historyList(t.id));
  });
  const form = h('form.ticket-form', { novalidate: true },
    h('div.dialog-head', h('h2#ticket-dialog-title', editing ? 'Edit ticket' : 'New ticket'),
      editing ? h('a.dialog-link', { href: `#/tickets/${t.id}`, onclick: async (ev) => {
        ev.preventDefault();
        if (await dismiss()) location.hash = `#/tickets/${t.id}`;
      } }, 'Open page') : null,
      h('button.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: dismiss }, '×')),
    general,
    conflictBox,
    f.nodes,
    history,
    h('div.dialog-actions', h('button.btn', { type: 'button', onclick: dismiss }, 'Cancel'), save));
  const dlg = h('dialog.dialog', { 'aria-labelledby': 'ticket-dialog-title' }, form);
  // The session ends with the dialog open (it expired, or a logout in another tab): what
  // it holds is kept for this tab, and comes back once the same user has signed in again.
  const offEnd = onSessionEnd(() => {
    sessionStorage.setItem(KEY_DRAFT, JSON.stringify({ owner, ticket: base, values: f.values() }));
    dlg.close();
  });
  dlg.addEventListener('close', () => { offEnd(); dlg.remove(); });
  // Escape asks first when the form holds something typed: one key must not lose it.
  dlg.addEventListener('cancel', (ev) => {
    ev.preventDefault();
    dismiss();
  });

  // Closes the dialog, after asking when that would drop changes; true once closed.
  async function dismiss() {
    if (f.dirty() && !(await confirmDialog({
      title: editing ? 'Discard your changes?' : 'Discard this new ticket?',
      message: 'What you typed in this form will be lost.',
      confirm: 'Discard', cancel: 'Keep editing', danger: true,
    }))) return false;
    dlg.close();
    return true;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    f.showErrors(null);
    general.hidden = true;
    save.disabled = true;
    try {
      if (editing) {
        await api('PUT', `/api/tickets/${t.id}`, f.values(), { headers: { 'If-Match': `"${base.version}"` } });
        toast('Ticket saved.', 'success');
      } else {
        await api('POST', '/api/tickets', f.values());
        toast('Ticket created.', 'success');
      }
      dlg.close();
      onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { dlg.close(); return; }
      if (e instanceof ApiError && e.status === 412) await conflict();
      else showErrors(e);
    } finally {
      save.disabled = false;
    }
  });

  // Saved by someone else since base: read their version, merge what needs no question,
  // show the rest, and save against their version from now on.
  async function conflict() {
    let theirs;
    try {
      [theirs] = await Promise.all([api('GET', `/api/tickets/${t.id}`), users.ready()]);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { dlg.close(); return; }
      general.textContent = e instanceof ApiError && e.status === 404
        ? 'This ticket was deleted meanwhile, so it cannot be saved. Your text is still here to copy.'
        : `Someone else changed this ticket meanwhile, and their version cannot be read: ${errorText(e)}`;
      general.hidden = false;
      return;
    }
    const rows = compare(base, theirs, f.values());
    for (const r of rows) if (r.taken) f.set(r.field, r.theirs);
    base = theirs;
    mount(conflictBox, conflictPanel(rows, theirs.version, {
      use: f.set,
      overwrite: () => form.requestSubmit(save),
    }));
    (conflictBox.querySelector('button') || save).focus();
  }

  function showErrors(e) {
    const { first, rest } = f.showErrors(e);
    general.textContent = rest || '';
    general.hidden = !rest;
    (first || save).focus();
  }

  if (initial) {
    for (const [name, v] of Object.entries(initial)) f.set(name, v);
    users.ready().then(() => f.assignee.set(f.assignee.value, true));
  }
  document.body.append(dlg);
  dlg.showModal();
  f.fields.subject.focus();
}

// Reopens the dialog a session's end closed (see ticketDialog), when its user is back.
export function restoreDraft() {
  const raw = sessionStorage.getItem(KEY_DRAFT);
  if (!raw) return;
  sessionStorage.removeItem(KEY_DRAFT);
  let d = null;
  try { d = JSON.parse(raw); } catch { /* a draft that cannot be read is no draft */ }
  if (!d?.values || d.owner !== session.user?.id) return;
  ticketDialog(d.ticket, () => window.dispatchEvent(new HashChangeEvent('hashchange')), { values: d.values });
  toast('What you were typing before signing in again is back in the form: check it, then save.');
}

// #/tickets/<id>: the ticket and its history.
export function ticketView(main, id) {
  let alive = true;
  const head = h('div.page-head');
  const body = h('div.card.ticket-card');
  mount(main, h('div.page',
    h('nav.breadcrumb', { 'aria-label': 'Breadcrumb' }, h('a', { href: ticketsHash() }, 'Tickets'),
      h('span', { 'aria-hidden': 'true' }, ' / '), h('span', shortId(id))),
    head, body,
    h('div.section-head', h('h2', 'History')),
    h('div.card.history-card', historyList(id))));

  function show(t) {
    document.title = `${t.subject} · ticketd`;
    mount(head, h('div.title-row', h('h1', t.subject), pill(t.status), pill(t.priority)),
      h('div.page-actions', h('button.btn', { type: 'button', onclick: () => ticketDialog(t, load) }, 'Edit')));
    mount(body, h('dl.meta',
      h('dt', 'Requester'), h('dd', t.requesterEmail),
      h('dt', 'Assignee'), h('dd', t.assigneeId ? users.nameOf(t.assigneeId) : h('span.muted', 'Unassigned')),
      h('dt', 'Created'), h('dd', when(t.createdAt)),
      h('dt', 'Updated'), h('dd', when(t.updatedAt)),
      h('dt', 'Ticket id'), h('dd.mono', t.id)),
    t.description ? h('p.ticket-description', t.description) : null);
  }

  // A deleted ticket is not readable (404), but an admin sees its history and may restore it.
  function missing() {
    document.title = 'Ticket · ticketd';
    const restore = h('button.btn', { type: 'button', onclick: async () => {
      restore.disabled = true;
      try {
        await api('POST', `/api/tickets/${id}/restore`);
        toast('Ticket restored.', 'success');
        // The route again: the page, its history and all, as for a live ticket.
        if (alive) window.dispatchEvent(new HashChangeEvent('hashchange'));
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 401)) toast(`Cannot restore: ${errorText(e)}`, 'error');
        restore.disabled = false;
      }
    } }, 'Restore');
    mount(head, h('div.title-row', h('h1', 'Ticket ', h('span.mono', shortId(id)))),
      session.isAdmin ? h('div.page-actions', restore) : null);
    mount(body, h('div.empty', 'This ticket is deleted, or does not exist.'));
  }

  async function load() {
    try {
      const [t] = await Promise.all([api('GET', `/api/tickets/${id}`), users.ready()]);
      if (alive) show(t);
    } catch (e) {
      if (!alive || (e instanceof ApiError && e.status === 401)) return;
      if (e instanceof ApiError && e.status === 404) missing();
      else toast(`Cannot load the ticket: ${errorText(e)}`, 'error');
    }
  }

  load();
  return () => { alive = false; };
}
