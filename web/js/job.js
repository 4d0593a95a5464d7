// job.js: one job's page: who started it and what it covers, its counters and progress,
// Cancel or Resume, "Restore what this job deleted" after a bulk delete, and its items
// (failed first, filterable, paged, each with its ticket's subject), exported as CSV.

import { api, query, session, vocab, ApiError } from './api.js';
import { h, mount, pill, progressBar, setProgress, num, when, shortId, toast, errorText, select } from './ui.js';
import * as live from './live.js';
import * as users from './users.js';
import { undo } from './bulk.js';
import { cap, coversNodes, jobTitle, totalText } from './describe.js';
import { cancelJob, jobAction, mayCancel } from './jobactions.js';

const ITEMS_LIMIT = 50;
// A CSV holds at most this many items (pages of itemsLimitMax, one after the other): a
// tab should not hold a million rows in memory; the toast says when the cap cut it.
const EXPORT_MAX = 100000;

export function jobView(main, id) {
  const admin = session.isAdmin;
  let alive = true;
  let job = null;
  let itemStatus = null;       // null until the job is known: then failed if any failed
  let itemsPage = 1;
  let itemsSeq = 0;
  let exporting = null;        // AbortController of a running export

  const title = h('h1', 'Job ', h('span.mono', shortId(id)));
  const statusBox = h('span');
  const cancel = h('button.btn.danger', { type: 'button', hidden: true, onclick: () => cancelJob(id, cancel) }, 'Cancel job');
  const resume = h('button.btn', { type: 'button', hidden: true, onclick: () => jobAction('resume', id, resume) }, 'Resume job');
  const restore = h('button.btn', { type: 'button', hidden: true, onclick: restoreDeleted }, 'Restore what this job deleted');
  const bar = progressBar({ progress: 0, status: 'queued' }, 'Job progress');
  const pct = h('span.job-pct');
  const stats = {};
  const stat = (key, label) => (stats[key] = h('div.stat-value', '—'), h('div.stat', { dataset: { stat: key } }, h('div.stat-label', label), stats[key]));
  const meta = h('dl.meta');
  const errorBox = h('p.form-error', { hidden: true });
  const filter = select('i-status', [['', 'All items'], ...vocab.jobItemStatuses.map((s) => [s, cap(s)])], '');
  filter.addEventListener('change', () => { itemStatus = filter.value; itemsPage = 1; loadItems(); });
  const exportBtn = h('button.btn', { type: 'button', onclick: exportCsv,
    title: `The items shown, at most ${num(EXPORT_MAX)}` }, 'Export CSV');
  const itemsBody = h('tbody');
  const itemsEmpty = h('div.empty', 'Loading items…');
  const info = h('span.pager-info');
  const pageLabel = h('span.pager-page');
  const prev = h('button.btn', { type: 'button', onclick: () => { if (itemsPage > 1) { itemsPage--; loadItems(); } } }, '‹ Prev');
  const next = h('button.btn', { type: 'button', onclick: () => { itemsPage++; loadItems(); } }, 'Next ›');

  mount(main, h('div.page',
    h('nav.breadcrumb', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/jobs' }, 'Jobs'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', shortId(id))),
    h('div.page-head', h('div.title-row', title, statusBox), h('div.page-actions', admin ? restore : null, cancel, admin ? resume : null)),
    h('div.card.job-summary',
      h('div.job-card-bar.big', bar, pct),
      h('div.stats', stat('total', 'Total'), stat('processed', 'Processed'), stat('succeeded', 'Succeeded'), stat('failed', 'Failed')),
      errorBox, meta),
    h('div.section-head', h('h2', 'Items'),
      h('div.field-inline', h('label', { for: 'i-status' }, 'Show'), filter, exportBtn)),
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
    document.title = `${jobTitle(j.type)} ${shortId(id)} · ticketd`;
    statusBox.replaceChildren(pill(j.status));
    cancel.hidden = live.isTerminal(j) || !mayCancel(j);
    resume.hidden = j.status !== 'failed';
    // What a delete deleted, whether it then completed, was canceled or failed.
    restore.hidden = !(j.type === 'bulk-delete' && live.isTerminal(j) && j.succeeded > 0);
    setProgress(bar, j);
    pct.textContent = `${Math.round(j.progress ?? 0)}%`;
    for (const k of ['processed', 'succeeded', 'failed']) stats[k].textContent = num(j[k]);
    stats.total.textContent = totalText(j);
    stats.failed.classList.toggle('bad', j.failed > 0);
    errorBox.hidden = !j.error;
    errorBox.textContent = j.error ? `Error: ${j.error.message}` : '';
    meta.replaceChildren(
      h('dt', 'Type'), h('dd', jobTitle(j.type)),
      h('dt', 'Started by'), h('dd.job-owner', users.nameOf(j.createdBy) || '—'),
      h('dt', 'Covers'), h('dd.job-covers', coversNodes(j)),
      h('dt', 'Created'), h('dd', when(j.createdAt)),
      h('dt', 'Started'), h('dd', when(j.startedAt)),
      h('dt', 'Finished'), h('dd', when(j.finishedAt)),
      h('dt', 'Job id'), h('dd.mono', j.id));
    // Items change state when the job ends, and when a resume makes them pending again.
    if ((wasRunning && live.isTerminal(j)) || (wasFailed && !live.isTerminal(j))) loadItems();
  }

  async function restoreDeleted() {
    restore.disabled = true;
    const started = await undo(id);
    restore.disabled = false;
    if (started && alive) location.hash = `#/jobs/${started.id}`;
  }

  const itemsPath = (page, limit) => `/api/jobs/${id}${query({ itemsPage: page, itemsLimit: limit, itemStatus })}`;

  async function loadItems(first) {
    const my = ++itemsSeq;
    try {
      const [res] = await Promise.all([api('GET', itemsPath(itemsPage, ITEMS_LIMIT)), first ? users.ready() : null]);
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
    itemsBody.replaceChildren(...items.map((it) => h('tr', { dataset: { ticketId: it.ticketId } },
      h('td', it.subject != null
        ? [h('a.subject', { href: `#/tickets/${it.ticketId}` }, it.subject), ' ', h('span.mono.muted', shortId(it.ticketId))]
        : h('span.mono', { title: 'No such ticket' }, it.ticketId)),
      h('td', pill(it.status)),
      h('td', it.error ? [h('code', it.error.code), ' ', h('span.muted', it.error.message)] : h('span.muted', '—')))));
    const total = res.itemsTotal ?? items.length;
    const pages = Math.max(1, Math.ceil(total / ITEMS_LIMIT));
    itemsEmpty.hidden = items.length > 0;
    itemsEmpty.textContent = itemStatus ? `No ${itemStatus} items.` : 'No items.';
    const first = total ? (itemsPage - 1) * ITEMS_LIMIT + 1 : 0;
    info.textContent = total ? `${num(first)}–${num(first + items.length - 1)} of ${num(total)} items` : 'No items';
    pageLabel.textContent = `Page ${num(itemsPage)} of ${num(pages)}`;
    prev.disabled = itemsPage <= 1;
    next.disabled = itemsPage >= pages;
  }

  // The items the Show filter selects, as CSV, read a page of itemsLimitMax at a time.
  async function exportCsv() {
    if (exporting) return;
    const ctl = (exporting = new AbortController());
    const limit = vocab.limits.itemsLimitMax;
    const rows = [['ticketId', 'subject', 'status', 'errorCode', 'errorMessage']];
    let total = 0;
    exportBtn.disabled = true;
    try {
      for (let page = 1; rows.length - 1 < EXPORT_MAX; page++) {
        const res = await api('GET', itemsPath(page, limit), undefined, { signal: ctl.signal });
        total = res.itemsTotal ?? 0;
        for (const it of res.items || []) {
          if (rows.length - 1 >= EXPORT_MAX) break;
          rows.push([it.ticketId, it.subject ?? '', it.status, it.error?.code ?? '', it.error?.message ?? '']);
        }
        exportBtn.textContent = `Exporting… ${num(rows.length - 1)} of ${num(Math.min(total, EXPORT_MAX))}`;
        if (!res.items?.length || page * limit >= total) break;
      }
      const n = rows.length - 1;
      download(`job-${shortId(id)}${itemStatus ? `-${itemStatus}` : ''}-items.csv`, toCsv(rows));
      toast(total > n
        ? `Exported the first ${num(n)} of ${num(total)} items: a CSV holds at most ${num(EXPORT_MAX)}.`
        : `Exported ${num(n)} item${n === 1 ? '' : 's'}.`, total > n ? 'warning' : 'success');
    } catch (e) {
      if (e.name !== 'AbortError' && !(e instanceof ApiError && e.status === 401)) {
        toast(`Cannot export the items: ${errorText(e)}`, 'error');
      }
    } finally {
      exporting = null;
      exportBtn.disabled = false;
      exportBtn.textContent = 'Export CSV';
    }
  }

  const unsubscribe = live.subscribe((j) => { if (j.id === id && alive) renderJob(j); });
  live.show('job', [id]);
  loadItems(true);
  return () => {
    alive = false;
    exporting?.abort();
    unsubscribe();
    live.show('job', []);
  };
}

// RFC 4180: every field quoted, quotes doubled, CRLF between records. A field that a
// spreadsheet would run as a formula (a subject is anyone's text) gets a leading quote.
function toCsv(rows) {
  const cell = (v) => {
    let s = String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return `"${s.replace(/"/g, '""')}"`;
  };
  return rows.map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own reference once started; the URL is only for the click.
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}
