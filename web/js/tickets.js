// tickets.js: the tickets page: filters, search, sort, paging, create/edit dialog, delete,
// restore (admin, deleted view), multi-select and bulk delete with live job cards.

import { api, query, session, vocab, ApiError } from './api.js';
import { h, mount, placeChildren, pill, progressBar, setProgress, num, when, shortId, debounce, toast,
         confirmDialog, errorText } from './ui.js';
import * as live from './live.js';

const MAX_SELECT = 100000;   // "select all matching" collects at most this many ids
const COLLECT_CONCURRENCY = 4;

// Kept across visits to the page, like a console's remembered view; the first visit starts
// from the contract's defaults (GET /api/meta).
let state = null;
let selected = new Set();
let allMatching = false;     // selected holds every ticket matching the filters
const cards = [];            // job ids shown as cards, newest first

export function ticketsView(main) {
  const { limits, defaults } = vocab;
  // deleted '' is the API's default (live tickets); the last filter is the deleted ones.
  state ??= { page: 1, limit: limits.limitDefault, status: '', priority: '', q: '',
    sort: defaults.ticketSort, deleted: '' };
  const deletedOnly = vocab.ticketDeleted[vocab.ticketDeleted.length - 1];
  const admin = session.isAdmin;
  let rows = [];
  let total = 0;
  let totalPages = 1;
  let seq = 0;
  let rowEls = new Map();    // ticket id -> { key, el }: the rows on screen, see render()
  let collecting = null;     // AbortController while collecting ids
  let alive = true;

  // ---------------------------------------------------------------- toolbar
  const search = h('input#t-search.input', { type: 'search', placeholder: 'Search subject or description',
    value: state.q, autocomplete: 'off' });
  const statusSel = select('t-status', [['', 'All statuses'], ...vocab.ticketStatuses.map((s) => [s, cap(s)])], state.status);
  const prioritySel = select('t-priority', [['', 'All priorities'], ...vocab.ticketPriorities.map((s) => [s, cap(s)])], state.priority);
  const viewSel = admin ? select('t-view', [['', 'Active tickets'], [deletedOnly, 'Deleted tickets']], state.deleted) : null;
  const sizes = [...new Set([limits.limitDefault, 50, limits.limitMax])].filter((n) => n <= limits.limitMax).sort((a, b) => a - b);
  const limitSel = select('t-limit', sizes.map((n) => [String(n), `${n} / page`]), String(state.limit));

  const onFilter = () => {
    state.status = statusSel.value;
    state.priority = prioritySel.value;
    state.deleted = viewSel ? viewSel.value : '';
    state.limit = Number(limitSel.value);
    state.page = 1;
    clearSelection();
    load();
  };
  for (const s of [statusSel, prioritySel, viewSel, limitSel]) s?.addEventListener('change', onFilter);
  const onSearch = debounce(() => {
    if (search.value.trim() === state.q) return;
    state.q = search.value.trim();
    state.page = 1;
    clearSelection();
    load();
  }, 300);
  search.addEventListener('input', onSearch);

  // ---------------------------------------------------------------- bulk bar
  const bulkCount = h('strong.bulk-count');
  const selectAllBtn = h('button.link', { type: 'button', onclick: selectAllMatching });
  const clearBtn = h('button.link', { type: 'button', onclick: () => { clearSelection(); render(); } }, 'Clear selection');
  const bulkDeleteBtn = h('button.btn.danger', { type: 'button', onclick: bulkDelete }, 'Bulk delete');
  const bulkBar = h('div.bulkbar', { role: 'region', 'aria-label': 'Selection', hidden: true },
    bulkCount, selectAllBtn, clearBtn, h('span.spacer'), bulkDeleteBtn);

  // ---------------------------------------------------------------- table
  const headCheck = h('input', { type: 'checkbox', 'aria-label': 'Select all tickets on this page',
    onchange: () => {
      allMatching = false;
      for (const t of rows) headCheck.checked ? selected.add(t.id) : selected.delete(t.id);
      render();
    } });
  // A column sorts when its field is one the API sorts by (GET /api/meta's ticketSorts).
  const columns = [
    ['subject', 'Subject'],
    ['status', 'Status'],
    ['priority', 'Priority'],
    ['requester', 'Requester', 'col-requester'],
    ['createdAt', 'Created', 'hide-sm'],
    ['updatedAt', 'Updated', 'hide-sm'],
  ];
  const sortButtons = {};
  const headRow = h('tr',
    admin ? h('th.col-check', { scope: 'col' }, headCheck) : null,
    columns.map(([key, label, cls]) => {
      if (!vocab.ticketSorts.includes(key)) return h('th', { scope: 'col', class: cls }, label);
      const btn = h('button.sort', { type: 'button', onclick: () => toggleSort(key) }, label, h('span.sort-icon', { 'aria-hidden': 'true' }));
      sortButtons[key] = btn;
      return h('th', { scope: 'col', class: cls }, btn);
    }),
    h('th.col-actions', { scope: 'col' }, h('span.sr-only', 'Actions')));
  const tbody = h('tbody');
  const table = h('table.table', { 'aria-label': 'Tickets' }, h('thead', headRow), tbody);
  const empty = h('div.empty', { hidden: true });
  const pagerInfo = h('span.pager-info');
  const prevBtn = h('button.btn', { type: 'button', onclick: () => go(state.page - 1) }, '‹ Prev');
  const nextBtn = h('button.btn', { type: 'button', onclick: () => go(state.page + 1) }, 'Next ›');
  const pageLabel = h('span.pager-page');
  const pager = h('nav.pager', { 'aria-label': 'Pagination' }, pagerInfo, h('span.spacer'), prevBtn, pageLabel, nextBtn);

  // ---------------------------------------------------------------- job cards
  const cardsBox = h('section.job-cards', { 'aria-label': 'Bulk jobs' });
  const cardEls = new Map();

  const newBtn = h('button.btn.primary', { type: 'button', onclick: () => openTicketDialog(null) }, '+ New ticket');
  mount(main, h('div.page',
    h('div.page-head', h('h1', 'Tickets'), h('div.page-actions', newBtn)),
    cardsBox,
    h('div.toolbar',
      h('div.field-inline.grow', h('label.sr-only', { for: 't-search' }, 'Search'), search),
      h('div.field-inline', h('label.sr-only', { for: 't-status' }, 'Status'), statusSel),
      h('div.field-inline', h('label.sr-only', { for: 't-priority' }, 'Priority'), prioritySel),
      viewSel && h('div.field-inline', h('label.sr-only', { for: 't-view' }, 'View'), viewSel),
      h('div.field-inline', h('label.sr-only', { for: 't-limit' }, 'Page size'), limitSel)),
    bulkBar,
    h('div.card.table-card', h('div.table-wrap', table), empty, pager)));

  const unsubscribe = live.subscribe((job, prev) => {
    if (!cards.includes(job.id)) {
      // Someone's job that runs now (an event, or the hub's replay on connect).
      if (!admin || live.isTerminal(job)) return;
      cards.unshift(job.id);
    }
    renderCards();
    if (prev && !live.isTerminal(prev) && live.isTerminal(job)) load();
  });
  const unGone = live.onGone((id) => {
    if (cards.includes(id)) { cards.splice(cards.indexOf(id), 1); renderCards(); }
  });

  // ---------------------------------------------------------------- behaviour
  function clearSelection() {
    collecting?.abort();
    selected = new Set();
    allMatching = false;
  }

  function toggleSort(key) {
    state.sort = state.sort === key ? `-${key}` : state.sort === `-${key}` ? key : key;
    state.page = 1;
    load();
  }

  function go(page) {
    if (page < 1 || page > totalPages) return;
    state.page = page;
    if (!allMatching) selected = new Set([...selected]);
    load();
  }

  async function load() {
    const my = ++seq;
    table.setAttribute('aria-busy', 'true');
    try {
      const res = await api('GET', `/api/tickets${query({
        page: state.page, limit: state.limit, status: state.status, priority: state.priority,
        q: state.q, sort: state.sort, deleted: state.deleted })}`);
      if (my !== seq || !alive) return;
      rows = res.data;
      total = res.total;
      totalPages = Math.max(1, res.totalPages);
      if (state.page > totalPages && total > 0) { state.page = totalPages; load(); return; }
      render();
    } catch (e) {
      if (my !== seq || !alive || (e instanceof ApiError && e.status === 401)) return;
      toast(`Cannot load tickets: ${errorText(e)}`, 'error');
    } finally {
      if (my === seq) table.removeAttribute('aria-busy');
    }
  }

  function render() {
    const deletedView = state.deleted === deletedOnly;
    const selectable = admin && !deletedView;
    const headTh = headCheck.closest('th');
    if (headTh) headTh.hidden = !selectable;
    for (const [key, btn] of Object.entries(sortButtons)) {
      const th = btn.parentElement;
      const dir = state.sort === key ? 'ascending' : state.sort === `-${key}` ? 'descending' : null;
      if (dir) th.setAttribute('aria-sort', dir); else th.removeAttribute('aria-sort');
      btn.dataset.dir = dir || '';
    }
    // A row is rebuilt only when what it shows changed: the same ticket in the same state
    // keeps its element, so a refresh (a save, a job's end, a search) never eats a click.
    const built = new Map();
    placeChildren(tbody, rows.map((t) => {
      const key = JSON.stringify([t, selectable, deletedView, selected.has(t.id)]);
      const old = rowEls.get(t.id);
      const el = old && old.key === key ? old.el : row(t, selectable, deletedView);
      built.set(t.id, { key, el });
      return el;
    }));
    rowEls = built;
    const onPage = rows.filter((t) => selected.has(t.id)).length;
    headCheck.checked = rows.length > 0 && onPage === rows.length;
    headCheck.indeterminate = onPage > 0 && onPage < rows.length;
    empty.hidden = rows.length > 0;
    empty.textContent = state.q || state.status || state.priority ? 'No tickets match these filters.'
      : deletedView ? 'No deleted tickets.' : 'No tickets yet.';
    const first = total ? (state.page - 1) * state.limit + 1 : 0;
    pagerInfo.textContent = total ? `${num(first)}–${num(first + rows.length - 1)} of ${num(total)}` : 'No tickets';
    pageLabel.textContent = `Page ${num(state.page)} of ${num(totalPages)}`;
    prevBtn.disabled = state.page <= 1;
    nextBtn.disabled = state.page >= totalPages;
    renderBulkBar();
  }

  function row(t, selectable, deletedView) {
    const check = selectable && h('input', { type: 'checkbox', checked: selected.has(t.id),
      'aria-label': `Select ${t.subject}`,
      onchange: (ev) => {
        allMatching = false;
        ev.target.checked ? selected.add(t.id) : selected.delete(t.id);
        render();
      } });
    const subject = deletedView ? h('span.subject', t.subject)
      : h('button.link.subject', { type: 'button', onclick: () => openTicketDialog(t) }, t.subject);
    const actions = deletedView
      ? h('button.btn.btn-sm', { type: 'button', onclick: () => restore(t) }, 'Restore')
      : [h('button.btn.btn-sm', { type: 'button', 'aria-label': `Edit ${t.subject}`, onclick: () => openTicketDialog(t) }, 'Edit'),
         h('button.btn.btn-sm.danger-ghost', { type: 'button', 'aria-label': `Delete ${t.subject}`, onclick: () => deleteOne(t) }, 'Delete')];
    return h('tr', { class: selected.has(t.id) ? 'selected' : null, dataset: { id: t.id } },
      admin ? h('td.col-check', { hidden: !selectable }, check) : null,
      h('td.col-subject', subject, t.description ? h('div.sub', t.description) : null),
      h('td', pill(t.status)),
      h('td', pill(t.priority)),
      h('td.col-requester', t.requesterEmail),
      h('td.hide-sm.nowrap', when(t.createdAt)),
      h('td.hide-sm.nowrap', when(t.updatedAt)),
      h('td.col-actions', h('div.row-actions', actions)));
  }

  function renderBulkBar() {
    const n = selected.size;
    bulkBar.hidden = !admin || n === 0;
    if (bulkBar.hidden) return;
    bulkCount.textContent = allMatching ? `All ${num(n)} matching tickets selected`
      : `${num(n)} selected`;
    const pageAll = rows.length > 0 && rows.every((t) => selected.has(t.id));
    selectAllBtn.hidden = !(pageAll && total > n && !allMatching) && !collecting;
    if (!collecting) selectAllBtn.textContent = `Select all ${num(Math.min(total, MAX_SELECT))} matching tickets`;
    bulkDeleteBtn.textContent = `Delete ${num(n)}`;
    bulkDeleteBtn.disabled = !!collecting;
  }

  // Every id matching the filters, read page by page, the API's largest pages.
  async function selectAllMatching() {
    if (collecting) return;
    const ctl = new AbortController();
    collecting = ctl;
    selectAllBtn.disabled = true;
    const filters = { status: state.status, priority: state.priority, q: state.q, sort: state.sort };
    const pageSize = limits.limitMax;
    const pages = Math.ceil(Math.min(total, MAX_SELECT) / pageSize);
    const ids = new Set(selected);
    let next = 1;
    let done = 0;
    const worker = async () => {
      while (next <= pages && !ctl.signal.aborted) {
        const page = next++;
        const res = await api('GET', `/api/tickets${query({ ...filters, page, limit: pageSize })}`, undefined, { signal: ctl.signal });
        for (const t of res.data) if (ids.size < MAX_SELECT) ids.add(t.id);
        done++;
        selectAllBtn.textContent = `Selecting… ${num(Math.min(done * pageSize, total))} of ${num(total)}`;
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(COLLECT_CONCURRENCY, pages) }, worker));
      if (ctl.signal.aborted) return;
      selected = ids;
      allMatching = true;
    } catch (e) {
      if (e.name !== 'AbortError') toast(`Cannot select every ticket: ${errorText(e)}`, 'error');
    } finally {
      if (collecting === ctl) collecting = null;
      selectAllBtn.disabled = false;
      if (alive) render();
    }
  }

  async function bulkDelete() {
    const ids = [...selected];
    if (!ids.length) return;
    const ok = await confirmDialog({
      title: `Delete ${num(ids.length)} ticket${ids.length === 1 ? '' : 's'}?`,
      message: `${num(ids.length)} ticket${ids.length === 1 ? '' : 's'} will be deleted in the background. An admin can restore them from the Deleted view.`,
      confirm: `Delete ${num(ids.length)}`, danger: true });
    if (!ok) return;
    bulkDeleteBtn.disabled = true;
    try {
      const job = await api('POST', '/api/jobs', { type: 'bulk-delete', payload: { ticketIds: ids } },
        { headers: { 'Idempotency-Key': crypto.randomUUID() } });
      if (!cards.includes(job.id)) cards.unshift(job.id);
      live.update(job);
      clearSelection();
      renderCards();
      render();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) toast(`Bulk delete failed: ${errorText(e)}`, 'error');
    } finally {
      bulkDeleteBtn.disabled = false;
    }
  }

  function renderCards() {
    if (!alive) return;
    while (cards.length > 8) cards.pop();
    const shown = cards.filter((id) => live.getJob(id));
    live.show('tickets', shown);
    for (const id of cardEls.keys()) if (!shown.includes(id)) cardEls.delete(id);
    placeChildren(cardsBox, shown.map((id) => {
      const job = live.getJob(id);
      let c = cardEls.get(id);
      if (!c) {
        c = jobCard(job);
        cardEls.set(id, c);
      }
      c.refresh(job);
      return c;
    }));
    cardsBox.hidden = shown.length === 0;
  }

  function jobCard(job) {
    const status = h('span');
    const bar = progressBar(job, `Bulk delete ${shortId(job.id)} progress`);
    const pct = h('span.job-pct');
    const counts = h('span.job-counts');
    const cancel = h('button.btn.btn-sm', { type: 'button', onclick: () => cancelJob(job.id, cancel) }, 'Cancel');
    const dismiss = h('button.icon-btn', { type: 'button', 'aria-label': 'Dismiss', onclick: () => {
      cards.splice(cards.indexOf(job.id), 1);
      renderCards();
    } }, '×');
    const el = h('article.job-card', { dataset: { jobId: job.id } },
      h('div.job-card-head',
        h('strong', 'Bulk delete'),
        h('a.mono', { href: `#/jobs/${job.id}` }, shortId(job.id)),
        status, h('span.spacer'), admin ? cancel : null, dismiss),
      h('div.job-card-bar', bar, pct),
      counts);
    el.refresh = (j) => {
      el.dataset.status = j.status;
      status.replaceChildren(pill(j.status));
      setProgress(bar, j);
      pct.textContent = `${Math.round(j.progress ?? 0)}%`;
      counts.replaceChildren(
        h('span', `${num(j.processed)} of ${num(j.total)} processed`),
        h('span.ok', `${num(j.succeeded)} succeeded`),
        h('span', { class: j.failed ? 'bad' : null }, `${num(j.failed)} failed`));
      cancel.hidden = live.isTerminal(j);
      dismiss.hidden = !live.isTerminal(j);
    };
    return el;
  }

  async function deleteOne(t) {
    const ok = await confirmDialog({ title: 'Delete this ticket?', message: `“${t.subject}” will be deleted.`,
      confirm: 'Delete', danger: true });
    if (!ok) return;
    try {
      await api('DELETE', `/api/tickets/${t.id}`);
      selected.delete(t.id);
      toast('Ticket deleted.', 'success');
      load();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) toast(`Cannot delete: ${errorText(e)}`, 'error');
    }
  }

  async function restore(t) {
    try {
      await api('POST', `/api/tickets/${t.id}/restore`);
      toast('Ticket restored.', 'success');
      load();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) toast(`Cannot restore: ${errorText(e)}`, 'error');
    }
  }

  function openTicketDialog(t) {
    ticketDialog(t, () => load());
  }

  // Jobs running when the page opens (an earlier visit, another tab) get their cards too.
  if (admin) {
    api('GET', '/api/jobs?status=running&limit=5').then((res) => {
      for (const j of res.data) {
        live.update(j);
        if (!cards.includes(j.id)) cards.push(j.id);
      }
      renderCards();
    }).catch(() => {});
  }
  renderCards();
  render();
  load();

  return () => {
    alive = false;
    collecting?.abort();
    unsubscribe();
    unGone();
    live.show('tickets', []);
  };
}

// No confirm: a cancel must be quick to land, and it only stops what has not run yet; a
// resume only runs again what a failure left undone. action: 'cancel' | 'resume'.
export async function jobAction(action, id, btn) {
  const resume = action === 'resume';
  if (btn) btn.disabled = true;
  try {
    live.update(await api('POST', `/api/jobs/${id}/${action}`), resume);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      toast(resume ? 'The job is no longer failed.' : 'The job had already finished.', 'info');
      live.refresh([id], resume);
    } else if (!(e instanceof ApiError && e.status === 401)) {
      toast(`Cannot ${action}: ${errorText(e)}`, 'error');
    }
  } finally {
    if (btn) btn.disabled = false;
  }
}

export const cancelJob = (id, btn) => jobAction('cancel', id, btn);

// ------------------------------------------------------------------ create / edit dialog

function ticketDialog(t, onSaved) {
  const editing = !!t;
  const fields = {};
  const errors = {};
  const field = (name, label, input, hint) => {
    input.id = `tf-${name}`;
    input.name = name;
    errors[name] = h('p.field-error', { id: `tf-${name}-error`, hidden: true });
    input.setAttribute('aria-describedby', `tf-${name}-error`);
    fields[name] = input;
    return h('div.field', h('label', { for: input.id }, label), input, hint ? h('p.hint', hint) : null, errors[name]);
  };
  const general = h('p.form-error', { role: 'alert', hidden: true });
  const save = h('button.btn.primary', { type: 'submit' }, editing ? 'Save changes' : 'Create ticket');
  const form = h('form.ticket-form', { novalidate: true },
    h('div.dialog-head', h('h2#ticket-dialog-title', editing ? 'Edit ticket' : 'New ticket'),
      h('button.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: () => dlg.close() }, '×')),
    general,
    field('subject', 'Subject', h('input.input', { type: 'text', value: t?.subject || '', maxlength: String(vocab.limits.subjectMax) })),
    field('description', 'Description', h('textarea.input', { rows: '4' }, t?.description || '')),
    h('div.field-row',
      field('status', 'Status', select(null, vocab.ticketStatuses.map((s) => [s, cap(s)]), t?.status || vocab.defaults.ticketStatus)),
      field('priority', 'Priority', select(null, vocab.ticketPriorities.map((s) => [s, cap(s)]), t?.priority || vocab.defaults.ticketPriority))),
    field('requesterEmail', 'Requester e-mail', h('input.input', { type: 'email', value: t?.requesterEmail || '' })),
    field('assigneeId', 'Assignee ID', h('input.input.mono', { type: 'text', value: t?.assigneeId || '', placeholder: 'optional user id' })),
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
      assigneeId: fields.assigneeId.value.trim() || null,
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
    } finally {
      save.disabled = false;
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  fields.subject.focus();
}

function select(id, options, value) {
  const s = h('select.input', id ? { id } : null,
    options.map(([v, label]) => h('option', { value: v }, label)));
  s.value = value;
  return s;
}

function cap(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
