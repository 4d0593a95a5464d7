// history.js: a ticket's history (GET /api/tickets/:id/history), oldest first: when, who,
// what changed, and the bulk job it came through.

import { api, query, vocab, ApiError } from './api.js';
import { h, when, shortId, errorText } from './ui.js';
import * as users from './users.js';
import { cap } from './describe.js';

const FIELDS = { status: 'status', priority: 'priority', assigneeId: 'assignee', subject: 'subject',
  requesterEmail: 'requester', description: 'description' };

function value(field, v) {
  if (v == null || v === '') return field === 'assigneeId' ? 'nobody' : '—';
  if (field === 'assigneeId') return users.nameOf(v);
  if (field === 'status' || field === 'priority') return cap(v);
  return field === 'subject' ? `“${v}”` : String(v);
}

// "status Open → Pending, assignee nobody → Agent, the description"
function changeNodes(changes) {
  return Object.entries(changes || {}).map(([field, c], i) => {
    const name = FIELDS[field] || field;
    const sep = i ? ', ' : '';
    if (!c || !('from' in c || 'to' in c)) return h('span.change', sep, `the ${name}`);
    return h('span.change', { dataset: { field } }, sep, `${name} `,
      h('span.from', value(field, c.from)), ' → ', h('span.to', value(field, c.to)));
  });
}

function entry(e) {
  const who = e.actor ? e.actor.name || shortId(e.actor.id) : 'a removed user';
  const what = e.action === 'updated' ? ['changed ', changeNodes(e.changes)]
    : e.action === 'created' ? 'created the ticket'
      : e.action === 'deleted' ? 'deleted it'
        : e.action === 'restored' ? 'restored it' : e.action;
  return h('li.history-entry', { dataset: { action: e.action } },
    h('time.history-when', { datetime: e.at }, when(e.at)),
    h('span.history-what', h('strong', who), ' ', what,
      e.jobId ? [' ', h('a.history-job', { href: `#/jobs/${e.jobId}` }, `via job ${shortId(e.jobId)}`)] : null));
}

// An element that reads and shows ticket id's history, a page at a time. onMissing(): the
// API does not know the ticket (or will not show it to this user).
export function historyList(id, { onMissing } = {}) {
  const list = h('ol.history', { 'aria-label': 'History' });
  const status = h('p.muted.history-status', 'Loading history…');
  const more = h('button.btn.btn-sm', { type: 'button', hidden: true, onclick: () => load() }, 'Show more');
  const el = h('div.history-box', list, status, more);
  let page = 0;

  async function load() {
    more.disabled = true;
    try {
      const [res] = await Promise.all([
        api('GET', `/api/tickets/${id}/history${query({ page: page + 1, limit: vocab.limits.historyLimitDefault })}`),
        users.ready(),
      ]);
      page = res.page;
      list.append(...res.data.map(entry));
      status.hidden = res.total > 0;
      status.textContent = 'No history recorded.';
      more.hidden = page >= res.totalPages;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        status.textContent = 'No history: this ticket does not exist, or is deleted.';
        onMissing?.();
      } else if (!(e instanceof ApiError && e.status === 401)) {
        status.textContent = `Cannot load the history: ${errorText(e)}`;
      }
    } finally {
      more.disabled = false;
    }
  }

  load();
  return el;
}
