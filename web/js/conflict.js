// conflict.js: what to show when a save meets a newer version of the ticket (412): a
// three-way comparison of the version the form was opened on (base), the one saved since
// (theirs) and the form (yours), field by field. Nothing typed is ever dropped: a field
// only they changed takes their value (yours was the old one anyway), a field both
// changed keeps yours in the form and offers theirs beside it.

import { h } from './ui.js';
import * as users from './users.js';
import { cap } from './describe.js';
import { TICKET_FIELDS, LABELS, norm } from './ticketform.js';

function shown(field, v) {
  if (norm(v) === '') return field === 'assigneeId' ? 'Unassigned' : '—';
  if (field === 'assigneeId') return users.nameOf(v);
  if (field === 'status' || field === 'priority') return cap(v);
  return String(v);
}

// Each field they changed since base: { field, theirs, yours, taken }. taken: the form had
// not changed it, so their value goes in without a question. A field both changed to the
// same value is no conflict and is not listed.
export function compare(base, theirs, yours) {
  const out = [];
  for (const f of TICKET_FIELDS) {
    const was = norm(base[f]);
    const now = norm(theirs[f]);
    const typed = norm(yours[f]);
    if (was === now || typed === now) continue;
    out.push({ field: f, theirs: theirs[f] ?? null, yours: yours[f] ?? null, taken: typed === was });
  }
  return out;
}

// The panel above the form. use(field, value) puts a value in the form; overwrite() saves
// the form as it stands against their version.
export function conflictPanel(rows, version, { use, overwrite }) {
  const choices = [];
  const items = rows.map((r) => {
    if (r.taken) {
      return h('li.conflict-row', { dataset: { field: r.field, taken: 'true' } },
        h('strong', LABELS[r.field]), ' ', h('span.conflict-theirs', shown(r.field, r.theirs)),
        h('span.muted', ' (theirs; you had not changed it, so it is in the form now)'));
    }
    const mine = h('button.btn.btn-sm.toggle', { type: 'button', 'aria-pressed': 'true' }, 'Keep mine');
    const other = h('button.btn.btn-sm.toggle', { type: 'button', 'aria-pressed': 'false' }, 'Use theirs');
    const pick = (theirs) => {
      use(r.field, theirs ? r.theirs : r.yours);
      mine.setAttribute('aria-pressed', String(!theirs));
      other.setAttribute('aria-pressed', String(theirs));
    };
    mine.addEventListener('click', () => pick(false));
    other.addEventListener('click', () => pick(true));
    choices.push(pick);
    return h('li.conflict-row', { dataset: { field: r.field } },
      h('div.conflict-field', h('strong', LABELS[r.field]),
        h('div.btn-group', { role: 'group', 'aria-label': 'Which version' }, mine, other)),
      h('div.conflict-values',
        h('span.muted', 'Theirs'), h('span.conflict-theirs', shown(r.field, r.theirs)),
        h('span.muted', 'Yours'), h('span.conflict-yours', shown(r.field, r.yours))));
  });
  const open = rows.filter((r) => !r.taken).length;
  return h('section.conflict', { role: 'region', 'aria-label': 'Conflict' },
    h('p', h('strong', 'Someone else saved this ticket while you were editing'),
      ` (it is now version ${version}). Nothing you typed is lost. `,
      open ? 'Choose per field, then save: Save changes sends the form as it stands.'
        : 'Their changes are in the form with yours; save to keep both.'),
    h('ul.conflict-list', items),
    open ? h('div.conflict-actions',
      h('button.btn.btn-sm', { type: 'button', onclick: () => choices.forEach((p) => p(true)) }, 'Use all theirs'),
      h('button.btn.btn-sm.primary', { type: 'button', onclick: () => {
        choices.forEach((p) => p(false));
        overwrite();
      } }, 'Overwrite with mine')) : null);
}
