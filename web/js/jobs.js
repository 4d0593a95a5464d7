// jobs.js: the jobs list (filtered by type and status, paged, live): each job's type,
// who started it, what it covers, its progress and counters. One job's page is job.js.

import { api, query, vocab, ApiError } from './api.js';
import { h, mount, pill, progressBar, setProgress, num, when, shortId, toast, errorText, select } from './ui.js';
import * as live from './live.js';
import * as users from './users.js';
import { cap, coversNodes, jobTitle, totalText } from './describe.js';

// Kept across visits; the first starts from the API's page size (GET /api/meta).
let listState = null;

export function jobsView(main) {
  listState ??= { type: '', status: '', page: 1, limit: vocab.limits.limitDefault };
  let alive = true;
  let seq = 0;
  let totalPages = 1;
  const rowEls = new Map();
  const typeSel = select('j-type', [['', 'All types'], ...vocab.jobTypes.map((t) => [t, jobTitle(t)])], listState.type);
  const statusSel = select('j-status', [['', 'All statuses'], ...vocab.jobStatuses.map((s) => [s, cap(s)])], listState.status);
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
      h('th', { scope: 'col' }, 'Job'), h('th.hide-sm', { scope: 'col' }, 'Type'),
      h('th.hide-sm', { scope: 'col' }, 'Covers'), h('th.hide-sm', { scope: 'col' }, 'Started by'),
      h('th', { scope: 'col' }, 'Status'),
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
      const [res] = await Promise.all([api('GET', `/api/jobs${query({ type: listState.type, status: listState.status,
        page: listState.page, limit: listState.limit })}`), users.ready()]);
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
    // The labels show where a row is a card (narrow screens: app.css).
    const total = h('td.num', { dataset: { label: 'Total' } });
    const covers = h('td.hide-sm.job-covers');
    const ok = h('td.num', { dataset: { label: 'Succeeded' } });
    const bad = h('td.num', { dataset: { label: 'Failed' } });
    const finished = h('td.hide-sm.nowrap');
    const tr = h('tr', { dataset: { jobId: job.id } },
      h('td', h('a.mono', { href: `#/jobs/${job.id}` }, shortId(job.id))),
      h('td.hide-sm.nowrap', jobTitle(job.type)),
      covers,
      h('td.hide-sm.nowrap', users.nameOf(job.createdBy) || '—'),
      status,
      h('td.col-progress', h('div.job-card-bar', bar, pct)),
      total, ok, bad,
      h('td.hide-sm.nowrap', when(job.createdAt)),
      finished);
    tr.refresh = (j) => {
      status.replaceChildren(pill(j.status));
      setProgress(bar, j);
      pct.textContent = `${Math.round(j.progress ?? 0)}%`;
      total.textContent = totalText(j);
      covers.replaceChildren(...coversNodes(j));
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
