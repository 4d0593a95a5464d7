// ticket.js: one ticket: the create/edit dialog (with the API's field errors by each
// field, an assignee picker and the ticket's history) and the ticket's page
// (#/tickets/<id>: its fields, Edit, and its history; for admins, Restore when deleted).

import { api, session, vocab, ApiError } from './api.js';
import { h, mount, pill, when, shortId, toast, errorText, select } from './ui.js';
import * as users from './users.js';
import { cap } from './describe.js';
import { historyList } from './history.js';

// The create (t null) or edit dialog; onSaved() after a save.
export function ticketDialog(t, onSaved) {
  const editing = !!t;
  const fields = {};
  const errors = {};
  // control: what the field shows; input: what takes the id and the error (the picker's
  // text box, for the assignee).
  const field = (name, label, control, input = control) => {
    input.id = `tf-${name}`;
    input.name = name;
    errors[name] = h('p.field-error', { id: `tf-${name}-error`, hidden: true });
    input.setAttribute('aria-describedby', `tf-${name}-error`);
    fields[name] = input;
    return h('div.field', h('label', { for: input.id }, label), control, errors[name]);
  };
  const assignee = users.assigneePicker({ id: 'tf-assigneeId', value: t?.assigneeId ?? null });
  const general = h('p.form-error', { role: 'alert', hidden: true });
  const save = h('button.btn.primary', { type: 'submit' }, editing ? 'Save changes' : 'Create ticket');
  const history = editing ? h('details.history-details', h('summary', 'History')) : null;
  history?.addEventListener('toggle', () => {
    if (history.open && history.children.length === 1) history.append(historyList(t.id));
  });
  const form = h('form.ticket-form', { novalidate: true },
    h('div.dialog-head', h('h2#ticket-dialog-title', editing ? 'Edit ticket' : 'New ticket'),
      editing ? h('a.dialog-link', { href: `#/tickets/${t.id}`, onclick: () => dlg.close() }, 'Open page') : null,
      h('button.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: () => dlg.close() }, '×')),
    general,
    field('subject', 'Subject', h('input.input', { type: 'text', value: t?.subject || '', maxlength: String(vocab.limits.subjectMax) })),
    field('description', 'Description', h('textarea.input', { rows: '4' }, t?.description || '')),
    h('div.field-row',
      field('status', 'Status', select(null, vocab.ticketStatuses.map((s) => [s, cap(s)]), t?.status || vocab.defaults.ticketStatus)),
      field('priority', 'Priority', select(null, vocab.ticketPriorities.map((s) => [s, cap(s)]), t?.priority || vocab.defaults.ticketPriority))),
    field('requesterEmail', 'Requester e-mail', h('input.input', { type: 'email', value: t?.requesterEmail || '' })),
    field('assigneeId', 'Assignee', assignee, assignee.input),
    history,
    h('div.dialog-actions',
      h('button.btn', { type: 'button', onclick: () => dlg.close() }, 'Cancel'), save));
  const dlg = h('dialog.dialog', { 'aria-labelledby': 'ticket-dialog-title' }, form);
  dlg.addEventListener('close', () => dlg.remove());

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    for (const e of Object.values(errors)) { e.hidden = true; e.textContent = ''; }
    for (const f of Object.values(fields)) f.removeAttribute('aria-invalid');
    general.hidden = true;
    const body = {
      subject: fields.subject.value,
      description: fields.description.value,
      status: fields.status.value,
      priority: fields.priority.value,
      requesterEmail: fields.requesterEmail.value.trim(),
      assigneeId: assignee.value ?? null,
    };
    save.disabled = true;
    try {
      if (editing) {
        await api('PUT', `/api/tickets/${t.id}`, body, { headers: { 'If-Match': `"${t.version}"` } });
        toast('Ticket saved.', 'success');
      } else {
        await api('POST', '/api/tickets', body);
        toast('Ticket created.', 'success');
      }
      dlg.close();
      onSaved();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) { dlg.close(); return; }
      showErrors(e);
    } finally {
      save.disabled = false;
    }
  });

  function showErrors(e) {
    const fe = e instanceof ApiError ? e.fieldErrors() : {};
    let first = null;
    for (const [name, msg] of Object.entries(fe)) {
      if (!errors[name]) continue;
      errors[name].textContent = msg;
      errors[name].hidden = false;
      fields[name].setAttribute('aria-invalid', 'true');
      first ||= fields[name];
    }
    const unplaced = Object.keys(fe).filter((k) => !errors[k]);
    if (!first || unplaced.length) {
      general.textContent = e instanceof ApiError && e.status === 412
        ? 'Someone else changed this ticket meanwhile. Close and open it again to see their changes.'
        : unplaced.length ? unplaced.map((k) => `${k}: ${fe[k]}`).join('; ') : errorText(e);
      general.hidden = false;
    }
    (first || save).focus();
  }

  document.body.append(dlg);
  dlg.showModal();
  fields.subject.focus();
}

// #/tickets/<id>: the ticket and its history.
export function ticketView(main, id) {
  let alive = true;
  const head = h('div.page-head');
  const body = h('div.card.ticket-card');
  mount(main, h('div.page',
    h('nav.breadcrumb', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/tickets' }, 'Tickets'),
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
