// users.js: who is who. A lookup of the users (GET /api/users), read once per page load and
// shared by every view that shows a name (the Assignee column, a job's starter, a
// ticket's history), and the assignee picker that searches them by name or e-mail.

import { api, query, session, vocab } from './api.js';
import { h, shortId } from './ui.js';

// GET /api/users answers at most usersLimitMax (GET /api/meta) at once and has no pages:
// beyond it, a name not in the first answer is learnt from the picker's searches, or
// shown as a short id.
const SEARCH_LIMIT = 20;

const byId = new Map();
let loading = null;

function remember(users) {
  for (const u of users) byId.set(u.id, u);
}

// Resolves once the lookup is read (or could not be: names then fall back to ids).
export function ready() {
  loading ??= api('GET', `/api/users${query({ limit: vocab.limits.usersLimitMax })}`)
    .then((res) => remember(res.data))
    .catch(() => { loading = null; });
  return loading;
}

// Forgets the lookup (a new session may see other users).
export function reset() {
  byId.clear();
  loading = null;
}

export function user(id) { return id ? byId.get(id) : null; }

// A user's name, or a short id when the lookup does not hold them.
export function nameOf(id) {
  if (!id) return null;
  const u = byId.get(id);
  return u ? u.name || u.email : shortId(id);
}

export async function search(q, signal) {
  const res = await api('GET', `/api/users${query({ q, limit: SEARCH_LIMIT })}`, undefined, { signal });
  remember(res.data);
  return res.data;
}

// An assignee field: a combobox that searches users by name or e-mail as one types.
// value: undefined (nothing chosen: "keep" when keepLabel is given), null (unassigned)
// or a user id. Returns the element with .value (read) and .set(value).
export function assigneePicker({ id, value, keepLabel = null, onChange = () => {} }) {
  const listId = `${id}-list`;
  const input = h('input.input', { id, type: 'text', role: 'combobox', autocomplete: 'off',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
    placeholder: keepLabel || 'Unassigned' });
  const list = h('ul.picker-list', { id: listId, role: 'listbox', hidden: true });
  const clear = h('button.icon-btn.picker-clear', { type: 'button', 'aria-label': 'Clear assignee',
    onclick: () => { set(keepLabel ? undefined : null); input.focus(); } }, '×');
  const el = h('div.picker', input, clear, list);
  let current;
  let options = [];
  let active = -1;
  let ctl = null;
  let timer = null;

  function label(v) {
    if (v === undefined) return '';
    if (v === null) return keepLabel ? 'Unassigned' : '';
    const u = byId.get(v);
    return u ? `${u.name} <${u.email}>` : v;
  }

  function set(v, quiet = false) {
    current = v;
    input.value = label(v);
    clear.hidden = v === undefined || (v === null && !keepLabel);
    close();
    if (!quiet) onChange(v);
  }

  // Also drops a search still to come or in flight: its answer must not reopen the list
  // after a choice.
  function close() {
    clearTimeout(timer);
    ctl?.abort();
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function render() {
    list.replaceChildren(...options.map((o, i) => h('li.picker-option', {
      id: `${id}-opt-${i}`, role: 'option', 'aria-selected': String(i === active),
      onmousedown: (ev) => ev.preventDefault(),   // keep the focus in the input
      onclick: () => set(o.value),
    }, o.text, o.sub ? h('span.muted', ` ${o.sub}`) : null)));
    list.hidden = options.length === 0;
    input.setAttribute('aria-expanded', String(!list.hidden));
    if (active >= 0) input.setAttribute('aria-activedescendant', `${id}-opt-${active}`);
    else input.removeAttribute('aria-activedescendant');
  }

  async function lookup() {
    ctl?.abort();
    const my = (ctl = new AbortController());
    const q = input.value.trim();
    try {
      const users = await search(q, my.signal);
      if (my.signal.aborted) return;
      const unassigned = !q || 'unassigned'.startsWith(q.toLowerCase());
      options = [
        ...(unassigned ? [{ value: null, text: 'Unassigned' }] : []),
        ...users.map((u) => ({ value: u.id, text: u.name, sub: u.email })),
      ];
      active = options.length ? 0 : -1;
      render();
    } catch (e) {
      if (e.name !== 'AbortError') close();
    }
  }
  const lookupSoon = () => { clearTimeout(timer); timer = setTimeout(lookup, 200); };

  input.addEventListener('input', lookupSoon);
  input.addEventListener('focus', () => { input.select(); lookupSoon(); });
  input.addEventListener('blur', () => {
    // Whatever was typed but not chosen goes back to the value held.
    input.value = label(current);
    close();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (!options.length) return;
      ev.preventDefault();
      active = (active + (ev.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
      render();
    } else if (ev.key === 'Enter' && !list.hidden && active >= 0) {
      ev.preventDefault();
      set(options[active].value);
    } else if (ev.key === 'Escape' && !list.hidden) {
      // Closes the list, not the dialog around it.
      ev.preventDefault();
      ev.stopPropagation();
      input.value = label(current);
      close();
    }
  });

  Object.defineProperty(el, 'value', { get: () => current });
  el.set = set;
  el.input = input;
  set(value, true);
  return el;
}

// The signed-in user's id, for "Mine".
export const me = () => session.user?.id;
