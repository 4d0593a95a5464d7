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

// The list's state is in its URL (#/tickets?q=...&status=...&sort=...&page=...): a reload
// or a shared link opens the same view. Only what differs from the defaults is written.
const URL_KEYS = [...FILTER_KEYS, 'deleted', 'sort', 'limit', 'page'];
// The list as last shown in this tab, where "Tickets" links go back to; kept over a reload
// (of a ticket's page, say).
const KEY_LIST = 'ticketd.list';
let lastHash = sessionStorage.getItem(KEY_LIST) || '#/tickets';
let selected = new Set();
let allMatching = false;     // the selection is every ticket matching the filters

export const ticketsHash = () => lastHash;

// The state a URL's query asks for, each value checked against the contract's vocabulary
// (GET /api/meta): anything else is the default.
function stateFrom(params, sizes) {
  const { limits, defaults } = vocab;
  const get = (k) => (params.get(k) || '').trim();
  const oneOf = (k, list) => (list.includes(get(k)) ? get(k) : '');
  const sort = get('sort');
  const page = Number(get('page'));
  const limit = Number(get('limit'));
  const deletedOnly = vocab.ticketDeleted[vocab.ticketDeleted.length - 1];
  return {
    q: get('q').slice(0, limits.qMax),
    status: oneOf('status', vocab.ticketStatuses),
    priority: oneOf('priority', vocab.ticketPriorities),
    requesterEmail: get('requesterEmail').slice(0, limits.emailMax),
    assigneeId: /^(none|[0-9a-f-]{36})$/i.test(get('assigneeId')) ? get('assigneeId') : '',
    deleted: session.isAdmin && get('deleted') === deletedOnly ? deletedOnly : '',
    sort: vocab.ticketSorts.includes(sort.replace(/^-/, '')) ? sort : defaults.ticketSort,
    limit: sizes.includes(limit) ? limit : limits.limitDefault,
    page: Number.isInteger(page) && page >= 1 && page <= limits.pageMax ? page : 1,
  };
}

function hashOf(state) {
  const { limits, defaults } = vocab;
  const q = new URLSearchParams();
  for (const k of URL_KEYS) {
    const v = state[k];
    if (v === '' || (k === 'sort' && v === defaults.ticketSort) || (k === 'page' && v === 1)
        || (k === 'limit' && v === limits.limitDefault)) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `#/tickets?${s}` : '#/tickets';
}

export function ticketsView(main, params = new URLSearchParams()) {
  const { limits, defaults } = vocab;
  const sizes = [...new Set([limits.limitDefault, 50, limits.limitMax])].filter((n) => n <= limits.limitMax).sort((a, b) => a - b);
  const state = stateFrom(params, sizes);
  // A selection belongs to the list it was made in, not to another one opened by a link.
  if (hashOf(state) !== lastHash) clearSelection();
  const deletedOnly = vocab.ticketDeleted[vocab.ticketDeleted.length - 1];
  const sortable = (key) => vocab.ticketSorts.includes(key);
  const admin = session.isAdmin;
  const me = users.me();
  let rows = [];
  let total = 0;
  let totalPages = 1;
  // The API counts up to 10,000 matches exactly; past that total is an estimate: the pager
  // says "about", Next goes on while pages are full, and Last is off (its page would be
  // a guess, and an OFFSET that deep reads every row before it: sort the other way round).
  let estimate = false;
  let seq = 0;
  let rowEls = new Map();    // ticket id -> { key, el }: the rows on screen, see render()
  let alive = true;
  let ownHash = location.hash;   // the URL this view may write over (toUrl)

  // ---------------------------------------------------------------- toolbar
  const search = h('input#t-search.input', { type: 'search', placeholder: 'Search subject or description',
    value: state.q, autocomplete: 'off' });
  const requester = h('input#t-requester.input', { type: 'email', placeholder: 'Requester e-mail',
    value: state.requesterEmail, autocomplete: 'off' });
  const statusSel = select('t-status', [['', 'All statuses'], ...vocab.ticketStatuses.map((s) => [s, cap(s)])], state.status);
  const prioritySel = select('t-priority', [['', 'All priorities'], ...vocab.ticketPriorities.map((s) => [s, cap(s)])], state.priority);
  const viewSel = admin ? select('t-view', [['', 'Active tickets'], [deletedOnly, 'Deleted tickets']], state.deleted) : null;
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
  const table = h('table.table.tickets-table', { 'aria-label': 'Tickets' }, h('thead', headRow), tbody);
  const empty = h('div.empty', { hidden: true });
  const pagerInfo = h('span.pager-info');
  const firstBtn = h('button.btn', { type: 'button', 'aria-label': 'First page', onclick: () => go(1) }, '«');
  const prevBtn = h('button.btn', { type: 'button', onclick: () => go(state.page - 1) }, '‹ Prev');
  const nextBtn = h('button.btn', { type: 'button', onclick: () => go(state.page + 1) }, 'Next ›');
  const lastBtn = h('button.btn', { type: 'button', 'aria-label': 'Last page', onclick: () => go(totalPages) }, '»');
  // A jump to any page: over "Page 1 of 10,010", Prev and Next alone are no way there.
  const pageInput = h('input#t-page.input.pager-input', { type: 'number', min: '1', inputmode: 'numeric' });
  pageInput.addEventListener('change', () => {
    const p = Number(pageInput.value);
    if (Number.isInteger(p) && canGo(p)) go(p);
    else pageInput.value = String(state.page);
  });
  const pageOf = h('span.pager-page');
  const pager = h('nav.pager', { 'aria-label': 'Pagination' }, pagerInfo, h('span.spacer'), firstBtn, prevBtn,
    h('label.pager-page', { for: 't-page' }, 'Page'), pageInput, pageOf, nextBtn, lastBtn);

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
    return allMatching ? { filter: filter(), total, estimate, deleted } : { ids: [...selected], deleted };
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

  // A column's first click sorts the way one reads it most: priority by urgency, the
  // most urgent first; the others A to Z, oldest first. The next click turns it around.
  function toggleSort(key) {
    const first = key === 'priority' ? `-${key}` : key;
    state.sort = state.sort === first ? (first.startsWith('-') ? key : `-${key}`) : first;
    state.page = 1;
    load();
  }

  const canGo = (page) => page >= 1 && (page <= totalPages || (estimate && page === state.page + 1
    && rows.length === state.limit));

  function go(page) {
    if (!canGo(page)) return;
    state.page = page;
    load();
  }

  // The URL follows the state without a new history entry per keystroke or page, and
  // without the hashchange that would build the view again. Only over the URL this view
  // was built from or last wrote itself: any other was set by a navigation (a link, a
  // bookmark, another search typed in the address bar) whose hashchange has not run yet.
  // A reload (a job card ending, the first page coming in) would otherwise write the list
  // back over it, and the router would then build this list instead of the page asked for.
  function toUrl() {
    lastHash = hashOf(state);
    sessionStorage.setItem(KEY_LIST, lastHash);
    if (!alive || location.hash !== ownHash) return;
    if (location.hash !== lastHash) history.replaceState(null, '', lastHash);
    ownHash = location.hash;
  }

  async function load() {
    const my = ++seq;
    toUrl();
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
      estimate = res.totalIsEstimate === true;
      totalPages = Math.max(1, res.totalPages);
      if (state.page > totalPages && total > 0) { state.page = totalPages; load(); return; }
      toUrl();
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
    const first = (state.page - 1) * state.limit + 1;
    pagerInfo.textContent = rows.length ? `${num(first)}–${num(first + rows.length - 1)} of ${about(total)}`
      : total ? `None on page ${num(state.page)} of ${about(total)}` : 'No tickets';
    if (document.activeElement !== pageInput) pageInput.value = String(state.page);
    pageInput.max = String(totalPages);
    pageOf.textContent = `of ${about(totalPages)}`;
    firstBtn.disabled = prevBtn.disabled = state.page <= 1;
    nextBtn.disabled = !canGo(state.page + 1);
    lastBtn.disabled = estimate || state.page >= totalPages;
    lastBtn.title = estimate ? 'The total is an estimate: sort the other way round to see the end' : '';
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
    // A ticket's own page has an address to reload and share; Edit is the quick dialog.
    const subject = h('a.subject', { href: `#/tickets/${t.id}` }, t.subject);
    const actions = deleted
      ? h('button.btn.btn-sm', { type: 'button', onclick: () => restore(t) }, 'Restore')
      : [h('button.btn.btn-sm', { type: 'button', 'aria-label': `Edit ${t.subject}`, onclick: () => ticketDialog(t, load) }, 'Edit'),
         h('button.btn.btn-sm.danger-ghost', { type: 'button', 'aria-label': `Delete ${t.subject}`, onclick: () => deleteOne(t) }, 'Delete')];
    const tr = h('tr', { dataset: { id: t.id } },
      h('td.col-check', check),
      h('td.col-subject', subject, t.description ? h('div.sub', t.description) : null),
      h('td.col-status', pill(t.status)),
      h('td.col-priority', pill(t.priority)),
      h('td.col-assignee', t.assigneeId ? users.nameOf(t.assigneeId) : h('span.muted', '—')),
      h('td.col-requester', t.requesterEmail),
      h('td.hide-sm.nowrap', when(t.createdAt)),
      h('td.hide-sm.nowrap', when(deleted ? t.deletedAt : t.updatedAt)),
      h('td.col-actions', h('div.row-actions', actions)));
    tr.check = check;
    return tr;
  }

  // "about 201,000" for an estimate, else the number.
  function about(n) { return estimate ? `about ${num(n)}` : num(n); }

  function renderBulkBar(deleted) {
    const n = allMatching ? total : selected.size;
    bulkBar.hidden = n === 0;
    if (bulkBar.hidden) return;
    bulkCount.textContent = allMatching ? `All ${about(n)} matching tickets selected` : `${num(n)} selected`;
    const pageAll = rows.length > 0 && rows.every((t) => selected.has(t.id));
    selectAllBtn.hidden = !(pageAll && total > n && !allMatching);
    selectAllBtn.textContent = `Select all ${about(total)} matching tickets`;
    const count = allMatching && estimate ? 'all' : allMatching && n > 1 ? `all ${num(n)}` : num(n);
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

  // Keys, when no field takes the typing and no dialog is open: / search, n new ticket,
  // j or → next page, k or ← previous page, x picks the row with the focus (or the first).
  function onKey(ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
    const t = ev.target;
    if (t.closest?.('input:not([type="checkbox"]), textarea, select, [contenteditable]') || document.querySelector('dialog[open]')) return;
    const keys = {
      '/': () => { search.focus(); search.select(); },
      n: () => newBtn.click(),
      j: () => go(state.page + 1),
      ArrowRight: () => go(state.page + 1),
      k: () => go(state.page - 1),
      ArrowLeft: () => go(state.page - 1),
      x: () => {
        const tr = t.closest?.('tbody tr') || tbody.firstElementChild;
        if (!tr?.check) return;
        tr.check.click();
        tr.check.focus();
      },
    };
    if (!keys[ev.key]) return;
    ev.preventDefault();
    keys[ev.key]();
  }
  document.addEventListener('keydown', onKey);
  search.setAttribute('aria-keyshortcuts', '/');
  newBtn.setAttribute('aria-keyshortcuts', 'n');
  nextBtn.setAttribute('aria-keyshortcuts', 'j ArrowRight');
  prevBtn.setAttribute('aria-keyshortcuts', 'k ArrowLeft');

  render();
  load();

  return () => {
    alive = false;
    document.removeEventListener('keydown', onKey);
    cards.destroy();
  };
}
