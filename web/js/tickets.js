// tickets.js: the tickets page: filters (search, status, priority, requester, Mine,
// Unassigned), sort, paging, the Assignee column; selection of tickets one by one, by page
// or every one matching, and the bulk actions on it: edit (everyone), delete (admins), and
// in the Deleted view (admins) restore, with a Deleted column; live job cards above.

import { api, query, session, vocab, ApiError } from './api.js';
import { h, mount, placeChildren, pill, num, when, debounce, toast, confirmDialog, errorText,
         select } from './ui.js';
import * as users from './users.js';
import { bulkDelete, bulkRestore, bulkEditDialog } from './bulk.js';
import { jobCards } from './cards.js';
import { cap } from './describe.js';
import { ticketDialog } from './ticket.js';

// The list's fields that are also a job's filter (payload.filter): the same names and
// meaning as GET /api/tickets' query.
const FILTER_KEYS = ['status', 'priority', 'assigneeId', 'requesterEmail', 'q'];

// Kept across visits to the page, like a console's remembered view; the first visit starts
// from the contract's defaults (GET /api/meta).
let state = null;
let selected = new Set();
let allMatching = false;     // the selection is every ticket matching the filters

export function ticketsView(main) {
  const { limits, defaults } = vocab;
  // deleted '' is the API's default (live tickets); the last filter is the deleted ones.
  state ??= { page: 1, limit: limits.limitDefault, status: '', priority: '', q: '', requesterEmail: '',
    assigneeId: '', sort: defaults.ticketSort, deleted: '' };
  const deletedOnly = vocab.ticketDeleted[vocab.ticketDeleted.length - 1];
  const sortable = (key) => vocab.ticketSorts.includes(key);
  const admin = session.isAdmin;
  const me = users.me();
  let rows = [];
  let total = 0;
  let totalPages = 1;
  let seq = 0;
  let rowEls = new Map();    // ticket id -> { key, el }: the rows on screen, see render()
  let alive = true;

  // ---------------------------------------------------------------- toolbar
  const search = h('input#t-search.input', { type: 'search', placeholder: 'Search subject or description',
    value: state.q, autocomplete: 'off' });
  const requester = h('input#t-requester.input', { type: 'email', placeholder: 'Requester e-mail',
    value: state.requesterEmail, autocomplete: 'off' });
  const statusSel = select('t-status', [['', 'All statuses'], ...vocab.ticketStatuses.map((s) => [s, cap(s)])], state.status);
  const prioritySel = select('t-priority', [['', 'All priorities'], ...vocab.ticketPriorities.map((s) => [s, cap(s)])], state.priority);
  const viewSel = admin ? select('t-view', [['', 'Active tickets'], [deletedOnly, 'Deleted tickets']], state.deleted) : null;
  const sizes = [...new Set([limits.limitDefault, 50, limits.limitMax])].filter((n) => n <= limits.limitMax).sort((a, b) => a - b);
  const limitSel = select('t-limit', sizes.map((n) => [String(n), `${n} / page`]), String(state.limit));
  const quick = (value, label) => h('button.btn.toggle', { type: 'button', 'aria-pressed': 'false',
    onclick: () => refilter(() => { state.assigneeId = state.assigneeId === value ? '' : value; }) }, label);
  const mineBtn = quick(me, 'Mine');
  const unassignedBtn = quick('none', 'Unassigned');

  // A change of what the list holds: back to page 1, and the selection goes (it was of
  // what the list held).
  function refilter(change) {
    change();
    state.page = 1;
    clearSelection();
    load();
  }
  const onSelects = () => refilter(() => {
    state.status = statusSel.value;
    state.priority = prioritySel.value;
    state.limit = Number(limitSel.value);
  });
  for (const s of [statusSel, prioritySel, limitSel]) s.addEventListener('change', onSelects);
  viewSel?.addEventListener('change', () => refilter(() => {
    state.deleted = viewSel.value;
    // The Deleted view shows the latest deleted first; elsewhere that order means nothing.
    const byDeleted = /^-?deletedAt$/.test(state.sort);
    if (state.deleted && !byDeleted && sortable('deletedAt')) state.sort = '-deletedAt';
    if (!state.deleted && byDeleted) state.sort = defaults.ticketSort;
  }));
  const typed = (input, key) => debounce(() => {
    const v = input.value.trim();
    if (v === state[key]) return;
    refilter(() => { state[key] = v; });
  }, 300);
  search.addEventListener('input', typed(search, 'q'));
  requester.addEventListener('input', typed(requester, 'requesterEmail'));

  // ---------------------------------------------------------------- bulk bar
  const bulkCount = h('strong.bulk-count');
  const selectAllBtn = h('button.link', { type: 'button', onclick: () => { allMatching = true; render(); } });
  const clearBtn = h('button.link', { type: 'button', onclick: () => { clearSelection(); render(); } }, 'Clear selection');
  const editBtn = h('button.btn', { type: 'button', onclick: () => act(bulkEditDialog) });
  const deleteBtn = h('button.btn.danger', { type: 'button', onclick: () => act(bulkDelete) });
  const restoreBtn = h('button.btn.primary', { type: 'button', onclick: () => act(bulkRestore) });
  const bulkBar = h('div.bulkbar', { role: 'region', 'aria-label': 'Selection', hidden: true },
    bulkCount, selectAllBtn, clearBtn, h('span.spacer'), editBtn, admin ? [deleteBtn, restoreBtn] : null);

  // ---------------------------------------------------------------- table
  const headCheck = h('input', { type: 'checkbox', 'aria-label': 'Select all tickets on this page',
    onchange: () => {
      if (allMatching) selected = new Set(rows.map((t) => t.id));
      allMatching = false;
      for (const t of rows) headCheck.checked ? selected.add(t.id) : selected.delete(t.id);
      render();
    } });
  // A column sorts when its field is one the API sorts by (GET /api/meta's ticketSorts).
  // The last one is the Deleted column in the Deleted view, the Updated one elsewhere.
  const columns = [
    ['subject', 'Subject'],
    ['status', 'Status'],
    ['priority', 'Priority'],
    ['assignee', 'Assignee', 'col-assignee'],
    ['requester', 'Requester', 'col-requester'],
    ['createdAt', 'Created', 'hide-sm'],
    ['updatedAt', 'Updated', 'hide-sm'],
    ['deletedAt', 'Deleted', 'hide-sm'],
  ];
  const sortButtons = {};
  const headCells = {};
  const headRow = h('tr',
    h('th.col-check', { scope: 'col' }, headCheck),
    columns.map(([key, label, cls]) => {
      if (!sortable(key)) return (headCells[key] = h('th', { scope: 'col', class: cls }, label));
      const btn = h('button.sort', { type: 'button', onclick: () => toggleSort(key) }, label, h('span.sort-icon', { 'aria-hidden': 'true' }));
      sortButtons[key] = btn;
      return (headCells[key] = h('th', { scope: 'col', class: cls }, btn));
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

  const cards = jobCards({ onEnd: () => load() });
  const newBtn = h('button.btn.primary', { type: 'button', onclick: () => ticketDialog(null, load) }, '+ New ticket');
  const field = (id, label, control) => h('div.field-inline', h('label.sr-only', { for: id }, label), control);
  mount(main, h('div.page',
    h('div.page-head', h('h1', 'Tickets'), h('div.page-actions', newBtn)),
    cards.el,
    h('div.toolbar',
      h('div.field-inline.grow', h('label.sr-only', { for: 't-search' }, 'Search'), search),
      field('t-status', 'Status', statusSel),
      field('t-priority', 'Priority', prioritySel),
      field('t-requester', 'Requester', requester),
      h('div.btn-group', { role: 'group', 'aria-label': 'Assignee' }, mineBtn, unassignedBtn),
      viewSel && field('t-view', 'View', viewSel),
      field('t-limit', 'Page size', limitSel)),
    bulkBar,
    h('div.card.table-card', h('div.table-wrap', table), empty, pager)));

  // ---------------------------------------------------------------- behaviour
  function clearSelection() {
    selected = new Set();
    allMatching = false;
  }

  const isSelected = (id) => allMatching || selected.has(id);
  const deletedView = () => state.deleted === deletedOnly;

  function filter() {
    const f = {};
    for (const k of FILTER_KEYS) if (state[k]) f[k] = state[k];
    return f;
  }

  // What a bulk action acts on: every ticket matching (as many as shown), or the picked ones.
  function scope() {
    const deleted = deletedView();
    return allMatching ? { filter: filter(), total, deleted } : { ids: [...selected], deleted };
  }

  async function act(start) {
    for (const b of [editBtn, deleteBtn, restoreBtn]) b.disabled = true;
    try {
      const job = await start(scope());
      if (job && alive) clearSelection();
    } finally {
      for (const b of [editBtn, deleteBtn, restoreBtn]) b.disabled = false;
      if (alive) render();
    }
  }

  function toggleSort(key) {
    state.sort = state.sort === key ? `-${key}` : key;
    state.page = 1;
    load();
  }

  function go(page) {
    if (page < 1 || page > totalPages) return;
    state.page = page;
    load();
  }

  async function load() {
    const my = ++seq;
    table.setAttribute('aria-busy', 'true');
    try {
      const [res] = await Promise.all([
        api('GET', `/api/tickets${query({ page: state.page, limit: state.limit, ...filter(),
          sort: state.sort, deleted: state.deleted })}`),
        users.ready(),
      ]);
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

  function renderHead(deleted) {
    headCells.updatedAt.hidden = deleted;
    headCells.deletedAt.hidden = !deleted;
    for (const [key, btn] of Object.entries(sortButtons)) {
      const th = btn.parentElement;
      const dir = state.sort === key ? 'ascending' : state.sort === `-${key}` ? 'descending' : null;
      if (dir) th.setAttribute('aria-sort', dir); else th.removeAttribute('aria-sort');
      btn.dataset.dir = dir || '';
    }
    mineBtn.setAttribute('aria-pressed', String(!!me && state.assigneeId === me));
    unassignedBtn.setAttribute('aria-pressed', String(state.assigneeId === 'none'));
  }

  function render() {
    const deleted = deletedView();
    renderHead(deleted);
    // A row is rebuilt only when what it shows changed: the same ticket in the same state
    // keeps its element, so a refresh (a save, a job's end, a search) never eats a click,
    // and (picked or not is set in place) a checkbox keeps the focus it was ticked with.
    const built = new Map();
    placeChildren(tbody, rows.map((t) => {
      const key = JSON.stringify([t, deleted, users.nameOf(t.assigneeId)]);
      const old = rowEls.get(t.id);
      const el = old && old.key === key ? old.el : row(t, deleted);
      el.classList.toggle('selected', isSelected(t.id));
      el.check.checked = isSelected(t.id);
      built.set(t.id, { key, el });
      return el;
    }));
    rowEls = built;
    const onPage = rows.filter((t) => isSelected(t.id)).length;
    headCheck.checked = rows.length > 0 && onPage === rows.length;
    headCheck.indeterminate = onPage > 0 && onPage < rows.length;
    empty.hidden = rows.length > 0;
    empty.textContent = Object.keys(filter()).length ? 'No tickets match these filters.'
      : deleted ? 'No deleted tickets.' : 'No tickets yet.';
    const first = total ? (state.page - 1) * state.limit + 1 : 0;
    pagerInfo.textContent = total ? `${num(first)}–${num(first + rows.length - 1)} of ${num(total)}` : 'No tickets';
    pageLabel.textContent = `Page ${num(state.page)} of ${num(totalPages)}`;
    prevBtn.disabled = state.page <= 1;
    nextBtn.disabled = state.page >= totalPages;
    renderBulkBar(deleted);
  }

  function row(t, deleted) {
    const check = h('input', { type: 'checkbox', 'aria-label': `Select ${t.subject}`,
      onchange: (ev) => {
        // Unpicking one of all matching leaves the picked ones on this page.
        if (allMatching) selected = new Set(rows.map((r) => r.id));
        allMatching = false;
        ev.target.checked ? selected.add(t.id) : selected.delete(t.id);
        render();
      } });
    const subject = deleted ? h('a.subject', { href: `#/tickets/${t.id}` }, t.subject)
      : h('button.link.subject', { type: 'button', onclick: () => ticketDialog(t, load) }, t.subject);
    const actions = deleted
      ? h('button.btn.btn-sm', { type: 'button', onclick: () => restore(t) }, 'Restore')
      : [h('button.btn.btn-sm', { type: 'button', 'aria-label': `Edit ${t.subject}`, onclick: () => ticketDialog(t, load) }, 'Edit'),
         h('button.btn.btn-sm.danger-ghost', { type: 'button', 'aria-label': `Delete ${t.subject}`, onclick: () => deleteOne(t) }, 'Delete')];
    const tr = h('tr', { dataset: { id: t.id } },
      h('td.col-check', check),
      h('td.col-subject', subject, t.description ? h('div.sub', t.description) : null),
      h('td', pill(t.status)),
      h('td', pill(t.priority)),
      h('td.col-assignee', t.assigneeId ? users.nameOf(t.assigneeId) : h('span.muted', '—')),
      h('td.col-requester', t.requesterEmail),
      h('td.hide-sm.nowrap', when(t.createdAt)),
      h('td.hide-sm.nowrap', when(deleted ? t.deletedAt : t.updatedAt)),
      h('td.col-actions', h('div.row-actions', actions)));
    tr.check = check;
    return tr;
  }

  function renderBulkBar(deleted) {
    const n = allMatching ? total : selected.size;
    bulkBar.hidden = n === 0;
    if (bulkBar.hidden) return;
    bulkCount.textContent = allMatching ? `All ${num(n)} matching tickets selected` : `${num(n)} selected`;
    const pageAll = rows.length > 0 && rows.every((t) => selected.has(t.id));
    selectAllBtn.hidden = !(pageAll && total > n && !allMatching);
    selectAllBtn.textContent = `Select all ${num(total)} matching tickets`;
    const count = allMatching && n > 1 ? `all ${num(n)}` : num(n);
    editBtn.hidden = deleted;
    editBtn.textContent = `Edit ${count}`;
    deleteBtn.hidden = deleted;
    deleteBtn.textContent = `Delete ${count}`;
    restoreBtn.hidden = !deleted;
    restoreBtn.textContent = `Restore ${count}`;
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
      selected.delete(t.id);
      toast('Ticket restored.', 'success');
      load();
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) toast(`Cannot restore: ${errorText(e)}`, 'error');
    }
  }

  render();
  load();

  return () => {
    alive = false;
    cards.destroy();
  };
}
