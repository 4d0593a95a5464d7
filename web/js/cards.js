// cards.js: the live job cards above the tickets list: one per bulk job this tab started
// (and, for admins, any job running), with its progress, counters, what it covers,
// Cancel while it runs and (admins) Undo once a bulk delete has deleted something.

import { api, session } from './api.js';
import { h, placeChildren, pill, progressBar, setProgress, num, shortId } from './ui.js';
import * as live from './live.js';
import { onStarted, undo } from './bulk.js';
import { coversNodes, jobTitle, totalText } from './describe.js';
import { cancelJob, mayCancel } from './jobactions.js';

const MAX_CARDS = 8;
const cards = [];            // job ids shown as cards, newest first; kept across visits

// onEnd(job): a job on a card has just ended (the list under it may have changed).
export function jobCards({ onEnd }) {
  const admin = session.isAdmin;
  const box = h('section.job-cards', { 'aria-label': 'Bulk jobs' });
  const els = new Map();
  let alive = true;

  const add = (id) => { if (!cards.includes(id)) cards.unshift(id); };
  const offStarted = onStarted((job, known) => {
    add(job.id);
    render();
    // Its end came before the POST's answer, when it had no card to tell.
    if (live.isTerminal(known) && !live.isTerminal(job)) onEnd(known);
  });
  const offLive = live.subscribe((job, prev) => {
    if (!cards.includes(job.id)) {
      // Someone's job that runs now (an event, or the hub's replay on connect).
      if (!admin || live.isTerminal(job)) return;
      add(job.id);
    }
    render();
    if (prev && !live.isTerminal(prev) && live.isTerminal(job)) onEnd(job);
  });
  const offGone = live.onGone((id) => {
    if (cards.includes(id)) { cards.splice(cards.indexOf(id), 1); render(); }
  });

  function render() {
    if (!alive) return;
    cards.splice(MAX_CARDS);
    const shown = cards.filter((id) => live.getJob(id));
    live.show('tickets', shown);
    for (const id of els.keys()) if (!shown.includes(id)) els.delete(id);
    placeChildren(box, shown.map((id) => {
      const job = live.getJob(id);
      let c = els.get(id);
      if (!c) {
        c = card(job);
        els.set(id, c);
      }
      c.refresh(job);
      return c;
    }));
    box.hidden = shown.length === 0;
  }

  function card(job) {
    const title = jobTitle(job.type);
    const status = h('span');
    const bar = progressBar(job, `${title} ${shortId(job.id)} progress`);
    const pct = h('span.job-pct');
    const counts = h('span.job-counts');
    const error = h('div.job-error.bad', { hidden: true });
    const covers = h('div.job-covers');
    const cancel = h('button.btn.btn-sm', { type: 'button', onclick: () => cancelJob(job.id, cancel) }, 'Cancel');
    const undoBtn = h('button.btn.btn-sm', { type: 'button', hidden: true, onclick: async () => {
      undoBtn.disabled = true;
      await undo(job.id);
      undoBtn.disabled = false;
    } }, 'Undo');
    const dismiss = h('button.icon-btn', { type: 'button', 'aria-label': 'Dismiss', onclick: () => {
      cards.splice(cards.indexOf(job.id), 1);
      render();
    } }, '×');
    const el = h('article.job-card', { dataset: { jobId: job.id, type: job.type } },
      h('div.job-card-head',
        h('strong', title),
        h('a.mono', { href: `#/jobs/${job.id}` }, shortId(job.id)),
        status, h('span.spacer'), cancel, admin ? undoBtn : null, dismiss),
      covers,
      h('div.job-card-bar', bar, pct),
      counts, error);
    el.refresh = (j) => {
      el.dataset.status = j.status;
      status.replaceChildren(pill(j.status));
      covers.replaceChildren(...coversNodes(j));
      setProgress(bar, j);
      pct.textContent = `${Math.round(j.progress ?? 0)}%`;
      counts.replaceChildren(
        h('span', `${num(j.processed)} of ${totalText(j)} processed`),
        h('span.ok', `${num(j.succeeded)} succeeded`),
        h('span', { class: j.failed ? 'bad' : null }, `${num(j.failed)} failed`));
      error.hidden = !j.error;
      error.textContent = j.error ? j.error.message : '';
      cancel.hidden = live.isTerminal(j) || !mayCancel(j);
      undoBtn.hidden = !(j.type === 'bulk-delete' && live.isTerminal(j) && j.status !== 'failed' && j.succeeded > 0);
      dismiss.hidden = !live.isTerminal(j);
    };
    return el;
  }

  // Jobs running when the page opens (an earlier visit, another tab) get their cards too.
  if (admin) {
    api('GET', '/api/jobs?status=running&limit=5').then((res) => {
      for (const j of res.data) {
        live.update(j);
        if (!cards.includes(j.id)) cards.push(j.id);
      }
      render();
    }).catch(() => {});
  }
  render();

  return {
    el: box,
    render,
    destroy() {
      alive = false;
      offStarted();
      offLive();
      offGone();
      live.show('tickets', []);
    },
  };
}
