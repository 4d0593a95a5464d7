// jobs.js: the jobs list (filtered by type and status, paged, live) and one job's page
// (counters, progress, Cancel or Resume, and its items: failed first, filterable, paged).

import { api, query, session, vocab, ApiError } from './api.js';
import { h, mount, pill, progressBar, setProgress, num, when, shortId, toast, errorText } from './ui.js';
import * as live from './live.js';
import { cancelJob, jobAction } from './tickets.js';

// Kept across visits; the first starts from the API's page size (GET /api/meta).
let listState = null;

export function jobsView(main) {
  listState ??= { type: '', status: '', page: 1, limit: vocab.limits.limitDefault };
  let alive = true;
  let seq = 0;
  let totalPages = 1;
  const rowEls = new Map();
  const typeSel = sel('j-type', [['', 'All types'], ...vocab.jobTypes.map((t) => [t, t[0].toUpperCase() + t.slice(1).replace(/-/g, ' ')])], listState.type);
  const statusSel = sel('j-status', [['', 'All statuses'], ...vocab.jobStatuses.map((s) => [s, s[0].toUpperCase() + s.slice(1)])], listState.status);
  const onFilter = () => {
    listState.type = typeSel.value;
    listState.status = statusSel.value;
    listState.page = 1;
    load();
  };
  typeSel.addEventListener('change', onFilter);
  statusSel.addEventListener('change', onFilter);
  const tbody = h('tbody');
  const empty = h('div.empty', { hidden: true }, 'No jobs match these filters.');
  const info = h('span.pager-info');
  const pageLabel = h('span.pager-page');
  const prev = h('button.btn', { type: 'button', onclick: () => go(listState.page - 1) }, '‹ Prev');
  const next = h('button.btn', { type: 'button', onclick: () => go(listState.page + 1) }, 'Next ›');
  const table = h('table.table', { 'aria-label': 'Jobs' },
    h('thead', h('tr',
      h('th', { scope: 'col' }, 'Job'), h('th.hide-sm', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Status'),
      h('th.col-progress', { scope: 'col' }, 'Progress'), h('th.num', { scope: 'col' }, 'Total'),
      h('th.num', { scope: 'col' }, 'Succeeded'), h('th.num', { scope: 'col' }, 'Failed'),
      h('th.hide-sm', { scope: 'col' }, 'Created'), h('th.hide-sm', { scope: 'col' }, 'Finished'))),
    tbody);
  mount(main, h('div.page',
    h('div.page-head', h('h1', 'Jobs')),
    h('div.toolbar',
      h('div.field-inline', h('label.sr-only', { for: 'j-type' }, 'Type'), typeSel),
      h('div.field-inline', h('label.sr-only', { for: 'j-status' }, 'Status'), statusSel)),
    h('div.card.table-card', h('div.table-wrap', table), empty,
      h('nav.pager', { 'aria-label': 'Pagination' }, info, h('span.spacer'), prev, pageLabel, next))));

  const unsubscribe = live.subscribe((job) => {
    const tr = rowEls.get(job.id);
    if (tr) tr.refresh(job);
  });

  function go(p) {
    if (p < 1 || p > totalPages) return;
    listState.page = p;
    load();
  }

  async function load() {
    const my = ++seq;
    try {
      const res = await api('GET', `/api/jobs${query({ type: listState.type, status: listState.status,
        page: listState.page, limit: listState.limit })}`);
      if (!alive || my !== seq) return;
      totalPages = Math.max(1, res.totalPages);
      rowEls.clear();
      tbody.replaceChildren(...res.data.map((j) => {
        live.update(j);
        const tr = jobRow(live.getJob(j.id) || j);
        rowEls.set(j.id, tr);
        return tr;
      }));
      live.show('jobs', res.data.map((j) => j.id));
      empty.hidden = res.data.length > 0;
      const first = res.total ? (listState.page - 1) * listState.limit + 1 : 0;
      info.textContent = res.total ? `${num(first)}–${num(first + res.data.length - 1)} of ${num(res.total)}` : 'No jobs';
      pageLabel.textContent = `Page ${num(listState.page)} of ${num(totalPages)}`;
      prev.disabled = listState.page <= 1;
      next.disabled = listState.page >= totalPages;
    } catch (e) {
      if (alive && !(e instanceof ApiError && e.status === 401)) toast(`Cannot load jobs: ${errorText(e)}`, 'error');
    }
  }

  function jobRow(job) {
    const status = h('td');
    const bar = progressBar(job, `Job ${shortId(job.id)} progress`);
    const pct = h('span.job-pct');
    const total = h('td.num');
    const ok = h('td.num');
    const bad = h('td.num');
    const finished = h('td.hide-sm.nowrap');
    const tr = h('tr', { dataset: { jobId: job.id } },
      h('td', h('a.mono', { href: `#/jobs/${job.id}` }, shortId(job.id))),
      h('td.hide-sm.nowrap', job.type),
      status,
      h('td.col-progress', h('div.job-card-bar', bar, pct)),
      total, ok, bad,
      h('td.hide-sm.nowrap', when(job.createdAt)),
      finished);
    tr.refresh = (j) => {
      status.replaceChildren(pill(j.status));
      setProgress(bar, j);
      pct.textContent = `${Math.round(j.progress ?? 0)}%`;
      total.textContent = num(j.total);
      ok.textContent = num(j.succeeded);
      bad.textContent = num(j.failed);
      finished.textContent = when(j.finishedAt);
    };
    tr.refresh(job);
    return tr;
  }

  load();
  return () => {
    alive = false;
    unsubscribe();
    live.show('jobs', []);
  };
}

export function jobView(main, id) {
  const admin = session.isAdmin;
  let alive = true;
  let job = null;
  let itemStatus = null;       // null until the job is known: then failed if any failed
  let itemsPage = 1;
  const itemsLimit = 50;
  let itemsSeq = 0;

  const title = h('h1', 'Job ', h('span.mono', shortId(id)));
  const statusBox = h('span');
  const cancel = h('button.btn.danger', { type: 'button', hidden: true, onclick: () => cancelJob(id, cancel) }, 'Cancel job');
  const resume = h('button.btn', { type: 'button', hidden: true, onclick: () => jobAction('resume', id, resume) }, 'Resume job');
  const bar = progressBar({ progress: 0, status: 'queued' }, 'Job progress');
  const pct = h('span.job-pct');
  const stats = {};
  const stat = (key, label) => (stats[key] = h('div.stat-value', '—'), h('div.stat', { dataset: { stat: key } }, h('div.stat-label', label), stats[key]));
  const meta = h('dl.meta');
  const errorBox = h('p.form-error', { hidden: true });
  const filter = sel('i-status', [['', 'All items'], ...vocab.jobItemStatuses.map((s) => [s, s[0].toUpperCase() + s.slice(1)])], '');
  filter.addEventListener('change', () => { itemStatus = filter.value; itemsPage = 1; loadItems(); });
  const itemsBody = h('tbody');
  const itemsEmpty = h('div.empty', 'Loading items…');
  const info = h('span.pager-info');
  const pageLabel = h('span.pager-page');
  const prev = h('button.btn', { type: 'button', onclick: () => { if (itemsPage > 1) { itemsPage--; loadItems(); } } }, '‹ Prev');
  const next = h('button.btn', { type: 'button', onclick: () => { itemsPage++; loadItems(); } }, 'Next ›');

  mount(main, h('div.page',
    h('nav.breadcrumb', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/jobs' }, 'Jobs'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', shortId(id))),
    h('div.page-head', h('div.title-row', title, statusBox), h('div.page-actions', admin ? [cancel, resume] : null)),
    h('div.card.job-summary',
      h('div.job-card-bar.big', bar, pct),
      h('div.stats', stat('total', 'Total'), stat('processed', 'Processed'), stat('succeeded', 'Succeeded'), stat('failed', 'Failed')),
      errorBox, meta),
    h('div.section-head', h('h2', 'Items'),
      h('div.field-inline', h('label', { for: 'i-status' }, 'Show'), filter)),
    h('div.card.table-card',
      h('div.table-wrap', h('table.table', { 'aria-label': 'Job items' },
        h('thead', h('tr', h('th', { scope: 'col' }, 'Ticket'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Error'))),
        itemsBody)),
      itemsEmpty,
      h('nav.pager', { 'aria-label': 'Items pagination' }, info, h('span.spacer'), prev, pageLabel, next))));

  function renderJob(j) {
    const wasRunning = job && !live.isTerminal(job);
    const wasFailed = job?.status === 'failed';
    job = j;
    document.title = `Job ${shortId(id)} · ticketd`;
    statusBox.replaceChildren(pill(j.status));
    cancel.hidden = live.isTerminal(j);
    resume.hidden = j.status !== 'failed';
    setProgress(bar, j);
    pct.textContent = `${Math.round(j.progress ?? 0)}%`;
    for (const k of ['total', 'processed', 'succeeded', 'failed']) stats[k].textContent = num(j[k]);
    stats.failed.classList.toggle('bad', j.failed > 0);
    errorBox.hidden = !j.error;
    errorBox.textContent = j.error ? `Error: ${j.error.message}` : '';
    meta.replaceChildren(
      h('dt', 'Type'), h('dd', j.type),
      h('dt', 'Created'), h('dd', when(j.createdAt)),
      h('dt', 'Started'), h('dd', when(j.startedAt)),
      h('dt', 'Finished'), h('dd', when(j.finishedAt)),
      h('dt', 'Job id'), h('dd.mono', j.id));
    // Items change state when the job ends, and when a resume makes them pending again.
    if ((wasRunning && live.isTerminal(j)) || (wasFailed && !live.isTerminal(j))) loadItems();
  }

  async function loadItems(first) {
    const my = ++itemsSeq;
    try {
      const res = await api('GET', `/api/jobs/${id}${query({ itemsPage, itemsLimit, itemStatus })}`);
      if (!alive || my !== itemsSeq) return;
      if (first) {
        live.update(res);
        renderJob(live.getJob(id) || res);
        if (itemStatus === null) {
          // Failures are what one comes to a job page for: show them first.
          itemStatus = res.failed > 0 ? 'failed' : '';
          filter.value = itemStatus;
          if (itemStatus) { loadItems(); return; }
        }
      }
      renderItems(res);
    } catch (e) {
      if (!alive || (e instanceof ApiError && e.status === 401)) return;
      if (e instanceof ApiError && e.status === 404) {
        mount(main, h('div.page', h('div.empty', 'This job does not exist, or it is not yours. ', h('a', { href: '#/jobs' }, 'Back to jobs'))));
        return;
      }
      toast(`Cannot load the job: ${errorText(e)}`, 'error');
    }
  }

  function renderItems(res) {
    const items = res.items || [];
    itemsBody.replaceChildren(...items.map((it) => h('tr',
      h('td.mono', it.ticketId),
      h('td', pill(it.status)),
      h('td', it.error ? [h('code', it.error.code), ' ', h('span.muted', it.error.message)] : h('span.muted', '—')))));
    const total = res.itemsTotal ?? items.length;
    const pages = Math.max(1, Math.ceil(total / itemsLimit));
    itemsEmpty.hidden = items.length > 0;
    itemsEmpty.textContent = itemStatus ? `No ${itemStatus} items.` : 'No items.';
    const first = total ? (itemsPage - 1) * itemsLimit + 1 : 0;
    info.textContent = total ? `${num(first)}–${num(first + items.length - 1)} of ${num(total)} items` : 'No items';
    pageLabel.textContent = `Page ${num(itemsPage)} of ${num(pages)}`;
    prev.disabled = itemsPage <= 1;
    next.disabled = itemsPage >= pages;
  }

  const unsubscribe = live.subscribe((j) => { if (j.id === id && alive) renderJob(j); });
  live.show('job', [id]);
  loadItems(true);
  return () => {
    alive = false;
    unsubscribe();
    live.show('job', []);
  };
}

function sel(id, options, value) {
  const s = h('select.input', { id }, options.map(([v, label]) => h('option', { value: v }, label)));
  s.value = value;
  return s;
}
