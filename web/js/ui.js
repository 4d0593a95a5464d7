// ui.js: small DOM helpers shared by the views: element builder, pills, progress bars,
// toasts, the confirm dialog, formatting.

// h('button.btn.primary', {onclick}, 'Save'): tag with optional #id and .classes.
export function h(spec, props, ...children) {
  const m = /^([a-z0-9-]+)?(?:#([\w-]+))?((?:\.[\w-]+)*)$/i.exec(spec);
  const el = document.createElement(m[1] || 'div');
  if (m[2]) el.id = m[2];
  if (m[3]) el.className = m[3].slice(1).replace(/\./g, ' ');
  if (props && (typeof props !== 'object' || props instanceof Node || Array.isArray(props))) {
    children.unshift(props);
    props = null;
  }
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

// Makes parent's children exactly nodes, in order, moving only what is out of place: a
// node already where it belongs is never detached, so a click or the focus on it survives
// a re-render (a list refreshed under the pointer would otherwise eat the click).
export function placeChildren(parent, nodes) {
  let cur = parent.firstChild;
  for (const n of nodes) {
    if (n === cur) cur = cur.nextSibling;
    else parent.insertBefore(n, cur);
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
}

export function pill(value, kind = value) {
  return h(`span.pill.pill-${kind}`, value);
}

export function progressBar(job, label) {
  const bar = h('div.progress', {
    role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100',
    'aria-label': label || 'Job progress',
  }, h('div.progress-fill'));
  setProgress(bar, job);
  return bar;
}

export function setProgress(bar, job) {
  const p = Math.max(0, Math.min(100, Math.round(job.progress ?? 0)));
  bar.setAttribute('aria-valuenow', String(p));
  bar.setAttribute('aria-valuetext', `${p}%`);
  bar.dataset.status = job.status;
  bar.firstChild.style.width = `${p}%`;
}

export const num = (n) => (n ?? 0).toLocaleString('en-US');

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit' });
}

export function shortId(id) { return id ? id.slice(0, 8) : ''; }

export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

// action: { label, onclick } adds a button (an Undo, say); such a toast stays longer, and
// never goes while the pointer or the focus is on it: nobody should lose an Undo mid-reach.
export function toast(message, kind = 'info', { action } = {}) {
  const box = document.getElementById('toasts');
  const close = h('button.toast-close', { type: 'button', 'aria-label': 'Dismiss' }, '×');
  const act = action && h('button.btn.btn-sm.toast-action', { type: 'button', onclick: () => {
    remove();
    action.onclick();
  } }, action.label);
  const t = h(`div.toast.toast-${kind}`, h('span', message), act, close);
  let timer = null;
  const remove = () => { clearTimeout(timer); t.remove(); };
  const ms = action ? 15000 : kind === 'error' ? 8000 : 5000;
  const arm = () => { clearTimeout(timer); timer = setTimeout(remove, ms); };
  const held = () => t.matches(':hover') || t.contains(document.activeElement);
  close.addEventListener('click', remove);
  t.addEventListener('mouseenter', () => clearTimeout(timer));
  t.addEventListener('focusin', () => clearTimeout(timer));
  t.addEventListener('mouseleave', () => { if (!held()) arm(); });
  t.addEventListener('focusout', () => setTimeout(() => { if (!held()) arm(); }));
  box.append(t);
  arm();
  return t;
}

// A modal <dialog> with a message (text or nodes); resolves true on confirm, false on
// cancel or Escape. A dangerous one focuses Cancel: Enter must never delete by reflex.
export function confirmDialog({ title, message, confirm = 'Confirm', cancel: cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const ok = h(`button.btn${danger ? '.danger' : '.primary'}`, { type: 'submit', value: 'ok' }, confirm);
    const cancel = h('button.btn', { type: 'submit', value: 'cancel' }, cancelLabel);
    const dlg = h('dialog.dialog.dialog-sm', { 'aria-labelledby': 'confirm-title' },
      h('form', { method: 'dialog' },
        h('h2#confirm-title', title),
        h('p', message),
        h('div.dialog-actions', cancel, ok)));
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    document.body.append(dlg);
    dlg.showModal();
    (danger ? cancel : ok).focus();
  });
}

// Replaces the children of el.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// A <select> of [value, label] options (id optional), set to value.
export function select(id, options, value = '') {
  const s = h('select.input', id ? { id } : null, options.map(([v, label]) => h('option', { value: v }, label)));
  s.value = value;
  return s;
}

export function errorText(e) {
  return e?.message || String(e);
}
